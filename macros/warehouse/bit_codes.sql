{#
  Codes 0-63 for the distinct non-null values of `column` in `relation`, as a query with the
  columns `<column>` and `<column>_code`: joined to the rows (broadcast), a group's distinct values
  are then the set bits of `bit_or(shiftleft(1L, <column>_code))`, counted with bit_count. A hash
  aggregate, where size(collect_set(…)) builds a set object per group and count(distinct …)
  copies every row once per counted column (see feat_customer_monthly). More than 64 distinct
  values fail the query rather than miscount.
#}
{% macro bit_codes(relation, column) -%}
    select
        {{ column }},
        case when value_rank <= 64 then value_rank - 1
            else raise_error('bit_codes: more than 64 distinct values of {{ column }}')
        end as {{ column }}_code
    from (
        select
            {{ column }},
            cast(row_number() over (order by {{ column }}) as int) as value_rank
        from (select distinct {{ column }} from {{ relation }}) as distinct_values
        where {{ column }} is not null
    ) as ranked_values
{%- endmacro %}
