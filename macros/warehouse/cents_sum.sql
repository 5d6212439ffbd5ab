{#
  The exact sum of a CZK amount with two decimal places, as a double: summed as whole hellers
  (cents) in a bigint, then divided by 100. A double sum depends on the order Spark adds the rows
  in (a local run and a cluster differ in the last bit); a decimal(18, 2) sum is exact too, but
  its decimal(28, 2) buffer is a Java BigDecimal: at 10M transactions feat_customer_monthly's
  activity query took 7.6-8.5 s with it and 5.6 s with this (5.0-5.1 s as a double sum), the
  same doubles to the bit (exceptAll both ways: 0 rows).
#}
{% macro cents_sum(amount) -%}
    sum(cast(({{ amount }}) * 100 as bigint)) / 100d
{%- endmacro %}
