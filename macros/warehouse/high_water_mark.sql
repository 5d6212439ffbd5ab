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
        {%- set attempts = [[where] if where else []] -%}
        {%- if at_least is not none -%}
            {%- do attempts.insert(0, attempts[0] + [column ~ " >= '" ~ at_least ~ "'"]) -%}
        {%- endif -%}
        {%- set found = [] -%}
        {%- for filters in attempts if not found -%}
            {%- set query = 'select max(' ~ column ~ ') from ' ~ this
                ~ (' where ' ~ filters | join(' and ') if filters else '') -%}
            {%- set value = run_query(query).columns[0].values()[0] -%}
            {%- if value is not none -%}
                {%- do found.append(value) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set value = found[0] if found else none -%}
        {{- return(value | string if value is not none else default) -}}
    {%- else -%}
        {{- return(default) -}}
    {%- endif -%}
{%- endmacro %}
