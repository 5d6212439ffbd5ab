{#
  The largest value of `column` already in this incremental model (over the rows matching
  `where`, when given), read at compile time so the generated SQL carries it as a literal
  (partition pruning needs literals, not subqueries). Returns `default` on a full refresh or
  when the model does not exist yet; fails clearly when the existing table lacks the column.
  `at_least`: a value the mark usually reaches (a literal, compared with `column`). The mark is
  first asked among the rows at or above it, so Spark skips the row groups below it by their
  statistics; only when no row reaches it is every row read.
#}
{% macro high_water_mark(column, default='0000-00-00', where=none, at_least=none) -%}
    {%- if execute and is_incremental() -%}
        {%- set existing = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {%- if column not in existing -%}
            {{- exceptions.raise_compiler_error(
                this ~ ' has no column ' ~ column ~ ': an earlier version of ' ~ model.name
                ~ ' built it. Rebuild it once with `frontier build --full-refresh --select '
                ~ model.name ~ '`.'
            ) -}}
        {%- endif -%}
        {%- set filters = [where] if where else [] -%}
        {%- set query = 'select max(' ~ column ~ ') from ' ~ this -%}
        {%- set value = none -%}
        {%- if at_least is not none -%}
            {%- set hinted = filters + [column ~ " >= '" ~ at_least ~ "'"] -%}
            {%- set value = run_query(query ~ ' where ' ~ hinted | join(' and '))
                .columns[0].values()[0] -%}
        {%- endif -%}
        {%- if value is none -%}
            {%- set value = run_query(query ~ (' where ' ~ filters | join(' and ') if filters else ''))
                .columns[0].values()[0] -%}
        {%- endif -%}
        {{- return(value | string if value is not none else default) -}}
    {%- else -%}
        {{- return(default) -}}
    {%- endif -%}
{%- endmacro %}
