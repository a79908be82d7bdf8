-- expect: same
select
    tier,
    bool_and(score > 0) as all_positive,
    bool_or(is_vip) as any_vip,
    avg(score) as avg_score,
    stddev_samp(score) as sd_score,
    var_pop(score) as var_score,
    min(signed_up) as first_signup,
    max(name) as last_name
from customers
group by tier
