{#
  Exact CZK sums without Spark's decimal sum. A decimal(18, 2) sum is exact, but its
  decimal(28, 2) buffer (decimal(38, 2) in a running window) is a Java BigDecimal per group. These
  macros sum whole hellers (cents) in a bigint instead: exact too, so the result does not depend
  on the order Spark adds the rows in (a local run and a cluster agree to the bit), and cheaper.
  Measured at 10M transactions: feat_customer_monthly's activity query 7.6-8.5 s with decimal
  sums, 5.6 s with hellers as `cast(amount * 100 as bigint)`; fct_daily_account_balances' daily
  aggregate and running balance 13.3-13.4 s with decimals, 10.4-10.8 s with to_hellers below
  (10.5-14.4 s with the cast) — the same values (exceptAll both ways 0).

  to_hellers goes through a double, not `cast(amount * 100 as bigint)`: decimal(18, 2) * 100 is a
  decimal(22, 2), a BigDecimal again. The double of a two-decimal amount times 100 is within a
  rounding error of the whole number of hellers, which floor(… + 0.5) recovers exactly for any
  amount below 10^13 CZK (validation rejects postings over 10^8).
#}

{% macro to_hellers(amount) -%}
    floor(cast(({{ amount }}) as double) * 100 + 0.5)
{%- endmacro %}


{% macro hellers_to_czk(hellers) -%}
    cast(({{ hellers }}) / 100d as decimal(18, 2))
{%- endmacro %}


{% macro czk_sum(amount) -%}
    {{ hellers_to_czk('sum(' ~ to_hellers(amount) ~ ')') }}
{%- endmacro %}


{% macro cents_sum(amount) -%}
    sum({{ to_hellers(amount) }}) / 100d
{%- endmacro %}
