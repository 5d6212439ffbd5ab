-- The Czech bank's clients in the shape of stg_core__customers. The bank records no names,
-- segments or incomes: a client holding a gold card is `premium`, every other `retail`, and the
-- income band is the band of the average salary in the client's district (1994 CZK/month).
with

clients as (

    select * from {{ ref('stg_berka__clients') }}

),

districts as (

    select * from {{ ref('stg_berka__districts') }}

),

dispositions as (

    select * from {{ ref('stg_berka__dispositions') }}

),

cards as (

    select * from {{ ref('stg_berka__cards') }}

),

accounts as (

    select * from {{ ref('stg_berka__accounts') }}

),

relationships as (

    select
        dispositions.client_id,
        min(accounts.opened_date) as joined_date,
        max(case when cards.card_type = 'gold' then 1 else 0 end) = 1 as has_gold_card
    from dispositions
    inner join accounts on dispositions.account_id = accounts.account_id
    left join cards on dispositions.disposition_id = cards.disposition_id
    group by dispositions.client_id

),

final as (

    select
        clients.client_id as customer_id,
        cast(null as string) as full_name,
        clients.birth_date,
        case when relationships.has_gold_card then 'premium' else 'retail' end as segment,
        case
            when districts.average_salary_czk < 8500 then 'low'
            when districts.average_salary_czk < 9500 then 'middle'
            when districts.average_salary_czk < 10500 then 'high'
            else 'very_high'
        end as income_band,
        clients.district_id as home_branch_id,
        relationships.joined_date
    from clients
    left join districts on clients.district_id = districts.district_id
    left join relationships on clients.client_id = relationships.client_id

)

select * from final
