"""Schemathesis hooks for scripts/schemathesis.sh.

Left to itself, the fuzzer draws shop domains and order ids at random, so nearly every request it
makes is about a shop or an order that does not exist, and stops at the lookup (an empty page, a
404). These hooks send part of the generated requests to the seeded shop and its orders instead
(`#1001` to `#1200`; for return actions, the orders on the returns tab), so the writes, the state
machine and the filters run on real rows. Each replacement is one option among others: the
generated values are kept as often.
"""

import functools
import json
import os
import urllib.parse
import urllib.request

import schemathesis
from hypothesis import strategies as st

SHOP = os.environ.get("SCHEMATHESIS_SHOP", "acme.myshopify.com")
ORDERS = int(os.environ.get("SCHEMATHESIS_ORDERS", "200"))
BASE_URL = os.environ.get("SCHEMATHESIS_BASE_URL", "")
NAMES = st.integers(min_value=1001, max_value=1000 + ORDERS).map(lambda n: f"#{n}")


@functools.cache
def _with_returns():
    """The names of the seeded orders whose return is still open, read once from the API."""
    query = urllib.parse.urlencode({"shop_domain": SHOP, "tab": "returns", "pageSize": 250})
    try:
        with urllib.request.urlopen(f"{BASE_URL}/sync/orders?{query}", timeout=10) as answer:
            names = [order["orderNumber"] for order in json.load(answer)["orders"]]
    except (OSError, ValueError, KeyError):
        names = []
    return st.sampled_from(names) if names else NAMES


def _steer(values, choices):
    """`values` with each key of `choices` either kept or replaced by a value of its strategy."""
    if not isinstance(values, dict):
        return st.just(values)
    options = {key: st.one_of(st.just(values[key]), strategy) for key, strategy in choices.items() if key in values}
    if not options:
        return st.just(values)
    return st.fixed_dictionaries(options).map(lambda chosen: {**values, **chosen})


@schemathesis.hook
def flatmap_query(context, query):
    return _steer(query, {"shop_domain": st.just(SHOP)})


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    return _steer(path_parameters, {"id": NAMES})


@schemathesis.hook
def flatmap_body(context, body):
    returns = context.operation is not None and context.operation.path.endswith("/returns")
    choices = {"shop_domain": st.just(SHOP), "orderId": _with_returns() if returns else NAMES}
    if isinstance(body, dict) and isinstance(body.get("orderIds"), list):
        choices["orderIds"] = st.lists(NAMES, min_size=1, max_size=5)
    return _steer(body, choices)
