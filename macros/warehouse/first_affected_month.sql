{#
  First day of the earliest month that rows of `upstream` loaded after `processed_through`
  (by `batch_column`) touch (see new_batch_dates). Month-partitioned incremental models
  recompute every month from there: '0000-01-01' on a full refresh (everything), '9999-12-31'
  when nothing is new.
#}
{% macro first_affected_month(upstream, date_column, processed_through, batch_column='loaded_at') -%}
    {%- if not is_incremental() -%}
        {{- return('0000-01-01') -}}
    {%- endif -%}
    {%- set days = new_batch_dates(upstream, date_column, processed_through, batch_column) -%}
    {{- return(days[0][:7] ~ '-01' if days else '9999-12-31') -}}
{%- endmacro %}
