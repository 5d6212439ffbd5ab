{#
  The largest value of `column` already in this incremental model (over the rows matching
  `where`, when given), read at compile time so the generated SQL carries it as a literal
  (partition pruning needs literals, not subqueries). Returns `default` on a full refresh or
  when the model does not exist yet; fails clearly when the existing table lacks the column.
#}
{% macro high_water_mark(column, default='0000-00-00', where=none) -%}
    {%- if execute and is_incremental() -%}
        {%- set existing = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {%- if column not in existing -%}
            {{- exceptions.raise_compiler_error(
                this ~ ' has no column ' ~ column ~ ': an earlier version of ' ~ model.name
                ~ ' built it. Rebuild it once with `frontier build --full-refresh --select '
                ~ model.name ~ '`.'
            ) -}}
        {%- endif -%}
        {%- set query = 'select max(' ~ column ~ ') from ' ~ this
            ~ (' where ' ~ where if where else '') -%}
        {%- set value = run_query(query).columns[0].values()[0] -%}
        {{- return(value | string if value is not none else default) -}}
    {%- else -%}
        {{- return(default) -}}
    {%- endif -%}
{%- endmacro %}
