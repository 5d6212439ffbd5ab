{#
  The largest value of `column` already in this incremental model (over the rows matching
  `where`, when given), read at compile time so the generated SQL carries it as a literal
  (partition pruning needs literals, not subqueries). Returns `default` on a full refresh or
  when the model does not exist yet.
#}
{% macro high_water_mark(column, default='0000-00-00', where=none) -%}
    {%- if execute and is_incremental() -%}
        {%- set query = 'select max(' ~ column ~ ') from ' ~ this
            ~ (' where ' ~ where if where else '') -%}
        {%- set value = run_query(query).columns[0].values()[0] -%}
        {{- return(value | string if value is not none else default) -}}
    {%- else -%}
        {{- return(default) -}}
    {%- endif -%}
{%- endmacro %}
