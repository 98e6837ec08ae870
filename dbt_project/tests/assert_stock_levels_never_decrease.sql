-- Platform stocks are running distinct counts: the level at a period end never falls below the
-- level at the previous period end (register-based stocks may, when a new snapshot drops households).
select f.*
from {{ ref('fct_indicator_values') }} as f
where f.indicator_kind = 'stock'
  and f.source = 'platforms'
  and f.value_in_period < 0
