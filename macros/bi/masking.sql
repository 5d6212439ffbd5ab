{#- Personal-data masking for the `bi` layer: readable enough to eyeball, useless to re-identify. -#}

{% macro mask_name(column) -%}
    concat_ws(
        ' ',
        transform(split({{ column }}, ' '), part -> concat(left(part, 1), '***'))
    )
{%- endmacro %}

{% macro mask_account_number(column) -%}
    concat(left({{ column }}, 4), repeat('*', greatest(length({{ column }}) - 8, 0)), right({{ column }}, 4))
{%- endmacro %}

{#- Salted so a list of known names cannot be hashed and matched: set FRONTIER_BI_SALT per deployment. -#}
{% macro pseudonym(column) -%}
    substr(sha2(concat('{{ env_var("FRONTIER_BI_SALT", "frontier-local") }}', cast({{ column }} as string)), 256), 1, 16)
{%- endmacro %}
