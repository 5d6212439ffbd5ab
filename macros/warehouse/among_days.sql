{#
  A filter keeping the rows whose `column` (a date, usually the partition column) is one of
  `days` ('yyyy-MM-dd' strings, as new_batch_dates returns them): literals, so Spark prunes the
  other days' partitions. `false` when `days` is empty.
#}
{% macro among_days(column, days) -%}
    {%- if days -%}
        {{ column }} in ('{{ days | join("', '") }}')
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}
