"""The generator's ground truth: what the warehouse should compute for a unit and a week."""

from __future__ import annotations

from lensan.calendar import periods

from lensan_dev.generate.population import Unit


def week_truth(u: Unit, week: str, posts: list[tuple]) -> dict:
    ws, we = periods.week_bounds(week)
    agri = [p for s in u.shops for p in s.products if p.group == "agri" and p.listed.date() <= we]
    inputs = [p for s in u.shops for p in s.products if p.group == "input" and p.listed.date() <= we]
    sxnn = [h for h in u.households if h.sxnn]
    shop_hh = {s.household.code for s in u.shops if s.household and s.household.sxnn and s.created.date() <= we}
    epay_hh = {s.household.code for s in u.shops if s.household and s.household.sxnn and s.epay_at(we)}
    both = {h.code for h in sxnn if {s.platform for s in u.shops if s.household is h and s.created.date() <= we}
            == {"postmart", "voso"}}
    ok_orders = [o for o in u.orders if o.ordered.date() <= we and o.success_at(we)]
    week_ok = [o for o in ok_orders if o.ordered.date() >= ws and o.product.group == "agri"]
    ytd_ok = [o for o in ok_orders if o.ordered.date().year == we.year and o.product.group == "agri"]
    domestic = sorted({o.province for o in ok_orders if o.country == "VN" and o.province})
    foreign = sorted({o.country for o in ok_orders if o.country != "VN"})
    prov_posts = sorted(p[4] for p in posts if p[4].date() <= we)
    post_days = sorted({p.date() for p in prov_posts})
    in_week = [d for d in post_days if ws <= d <= we]
    gaps = []
    prev = max((d for d in post_days if d < ws), default=None)
    for d in in_week:
        if prev is not None:
            gaps.append((d - prev).days)
        prev = d
    bought = {o.buyer_household.code for o in u.orders
              if o.buyer_household is not None and o.product.group == "input" and o.ordered.date() <= we}
    week_orders = [o for o in u.orders if ws <= o.ordered.date() <= we]
    return {
        "indicators": {
            "ocop_listed": sum(1 for p in agri if p.stars >= 3),
            "hh_trained_digital": sum(1 for h in sxnn if h.trained_digital and h.trained_digital <= we),
            "hh_trained_logistics": sum(1 for h in sxnn if h.trained_logistics and h.trained_logistics <= we),
            "hh_with_shop": len(shop_hh),
            "hh_with_epay": len(epay_hh),
            # "Số/loại": distinct product types, as the warehouse counts them (the products are products_listed)
            "products_promoted": len({p.type.strip().lower() for p in agri}),
            "products_listed": len(agri),
            "volume_sold_t": round(sum(o.weight_kg for o in week_ok) / 1000, 6),
            "volume_sold_t_ytd": round(sum(o.weight_kg for o in ytd_ok) / 1000, 6),
            "products_branded": sum(1 for p in agri if p.brand),
            "hh_branded": len({p.shop.household.code for p in agri
                               if p.brand and p.shop.household and p.shop.household.sxnn}),
            "traceable": sum(1 for p in agri if p.traceable),
            "domestic_markets": len(domestic),
            "foreign_markets": len(foreign),
            "info_items": len({p[2] for p in posts if p[4].date() <= we}),
            "info_update_days": max(gaps) if gaps else 7,
            "inputs_listed": len(inputs),
            "hh_bought_inputs": len(bought),
            "inputs_discounted": sum(1 for p in inputs if p.discount),
        },
        "domestic_provinces": domestic,
        "foreign_countries": foreign,
        "households": len(u.households),
        "households_sxnn": len(sxnn),
        "households_on_both_platforms": sorted(both),
        "shops": {pl: sum(1 for s in u.shops if s.platform == pl and s.created.date() <= we)
                  for pl in ("postmart", "voso")},
        "orders_in_week": {pl: sum(1 for o in week_orders if o.platform == pl) for pl in ("postmart", "voso")},
        "gmv_in_week_vnd": sum(o.amount for o in week_orders if o.success_at(we) and o.product.group == "agri"),
        "returned_order_ids": sorted(o.order_id for o in u.orders if o.returned and ws <= o.returned.date() <= we),
    }
