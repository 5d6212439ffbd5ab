{#-
    Score every row of a relation with a trained model's champion SQL function.
    Returns a select (use it as a CTE body): the relation's columns, `<model>_prediction`, and
    with explain=true `<model>_explanation` (top three features and their contributions).
    The champion's argument order is read from ml.model_registry at compile time. Without a
    champion the select still compiles (so parsing and linting work on an empty warehouse) and
    fails when it runs, saying which model to train.
-#}
{% macro ml_predict(model_name, relation, explain=false) %}
    {%- set arguments = ml_function_arguments(model_name) -%}
    {%- if arguments | length > 0 %}
    select
        *,
        ml.predict_{{ model_name }}({{ arguments | join(', ') }}) as {{ model_name }}_prediction
        {%- if explain %},
        ml.explain_{{ model_name }}({{ arguments | join(', ') }}) as {{ model_name }}_explanation
        {%- endif %}
    from {{ relation }}
    {%- else %}
    {%- set message = "model " ~ model_name ~ " has no champion in ml.model_registry: "
        ~ "run `frontier train " ~ model_name ~ "` first" %}
    select
        *,
        cast(raise_error('{{ message }}') as double) as {{ model_name }}_prediction
        {%- if explain %},
        cast(null as array<struct<feature: string, contribution: double>>)
            as {{ model_name }}_explanation
        {%- endif %}
    from {{ relation }}
    {%- endif %}
{% endmacro %}


{% macro ml_function_arguments(model_name) %}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set registry = adapter.get_relation(database=none, schema='ml', identifier='model_registry') -%}
    {%- if registry is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set query -%}
        select concat_ws(',', features) as arguments
        from ml.model_registry
        where model_name = '{{ model_name }}' and status = 'champion'
    {%- endset -%}
    {%- set found = run_query(query) -%}
    {{ return(found.rows[0][0].split(',') if found.rows | length > 0 else []) }}
{% endmacro %}
