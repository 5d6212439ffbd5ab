{#
  The distinct days (as 'yyyy-MM-dd' strings, sorted) of `date_expression` over the rows of
  `upstream` whose `batch_column` is newer than `processed_through`. Read at compile time (the
  upstream model has already run in this invocation), so models can filter partitions with
  literals. Empty on a full refresh, or when nothing new has landed.
#}
{% macro new_batch_dates(upstream, date_expression, processed_through, batch_column='batch_date') -%}
    {%- if execute and is_incremental() -%}
        {%- set query -%}
            select distinct cast({{ date_expression }} as string) as day
            from {{ upstream }}
            where {{ batch_column }} > '{{ processed_through }}'
              and {{ date_expression }} is not null
            order by day
        {%- endset -%}
        {{- return(run_query(query).columns[0].values() | list) -}}
    {%- else -%}
        {{- return([]) -}}
    {%- endif -%}
{%- endmacro %}
