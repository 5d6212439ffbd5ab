{#
  First day of the earliest month that holds a row of `upstream` from a batch newer than
  `processed_through`; read at compile time (the upstream model has already run). Incremental
  models partitioned by month rebuild every month from there on. On a full refresh: '0000-01-01'.
#}
{% macro first_affected_month(upstream, date_column, processed_through) -%}
    {%- if execute and is_incremental() -%}
        {%- set query -%}
            select cast(trunc(min({{ date_column }}), 'MM') as string)
            from {{ upstream }}
            where batch_date > '{{ processed_through }}'
        {%- endset -%}
        {%- set value = run_query(query).columns[0].values()[0] -%}
        {#- Nothing new: a date after every row, so the run rewrites nothing. -#}
        {{- return(value if value is not none else '9999-12-31') -}}
    {%- else -%}
        {{- return('0000-01-01') -}}
    {%- endif -%}
{%- endmacro %}
