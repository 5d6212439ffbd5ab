{#-
    Score every row of a relation with a trained model's champion SQL function.
    Returns a select (use it as a CTE body): the relation's columns, `<model>_prediction`, and
    with explain=true `<model>_explanation` (top three features and their contributions).
    The champion's argument order is read from ml.model_registry at compile time.
-#}
{% macro ml_predict(model_name, relation, explain=false) %}
    {%- set arguments = ml_function_arguments(model_name) -%}
    select
        *,
        ml.predict_{{ model_name }}({{ arguments | join(', ') }}) as {{ model_name }}_prediction
        {%- if explain %},
        ml.explain_{{ model_name }}({{ arguments | join(', ') }}) as {{ model_name }}_explanation
        {%- endif %}
    from {{ relation }}
{% endmacro %}


{% macro ml_function_arguments(model_name) %}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set query -%}
        select concat_ws(',', features) as arguments
        from ml.model_registry
        where model_name = '{{ model_name }}' and status = 'champion'
    {%- endset -%}
    {%- set found = run_query(query) if adapter.get_relation(
        database=none, schema='ml', identifier='model_registry') else none -%}
    {%- if found is none or found.rows | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "ml_predict: model '" ~ model_name ~ "' has no champion in ml.model_registry; "
            ~ "train it first with `frontier train " ~ model_name ~ "`") }}
    {%- endif -%}
    {{ return(found.rows[0][0].split(',')) }}
{% endmacro %}
