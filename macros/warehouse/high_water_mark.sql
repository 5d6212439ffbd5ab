{#
  The largest value of `column` already in this incremental model, read at compile time so the
  generated SQL carries it as a literal (partition pruning needs literals, not subqueries).
  Returns `default` on a full refresh or when the model does not exist yet.
#}
{% macro high_water_mark(column, default='0000-00-00') -%}
    {%- if execute and is_incremental() -%}
        {%- set result = run_query('select max(' ~ column ~ ') from ' ~ this) -%}
        {%- set value = result.columns[0].values()[0] -%}
        {{- return(value if value is not none else default) -}}
    {%- else -%}
        {{- return(default) -}}
    {%- endif -%}
{%- endmacro %}
