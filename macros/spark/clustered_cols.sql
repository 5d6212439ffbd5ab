{#
  dbt-spark's `clustered by (…) into N buckets` clause, plus `sorted by (…)` from the model's
  `sorted_by` config, which dbt-spark does not read. Without it a bucketed table is written in
  whatever order Spark's bucketing sort leaves the rows, even after an `order by` in the model.
#}
{% macro spark__clustered_cols(label, required=false) %}
    {%- set cols = config.get('clustered_by', validator=validation.any[list, basestring]) -%}
    {%- set buckets = config.get('buckets', validator=validation.any[int]) -%}
    {%- set sorted = config.get('sorted_by', validator=validation.any[list, basestring]) -%}
    {%- if cols is not none and buckets is not none %}
        {%- if cols is string %}{% set cols = [cols] %}{% endif -%}
        {%- if sorted is string %}{% set sorted = [sorted] %}{% endif -%}
        {{ label }} ({{ cols | join(', ') }})
        {%- if sorted %} sorted by ({{ sorted | join(', ') }}){% endif %}
        into {{ buckets }} buckets
    {%- endif %}
{%- endmacro %}
