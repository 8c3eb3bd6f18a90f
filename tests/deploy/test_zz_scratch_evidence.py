from tests.deploy.test_stack_on_loopback import _query, prometheus, stack  # noqa: F401


def test_print(prometheus):  # type: ignore[no-untyped-def]
    for expr in [
        'sum by (class) (stampede_harness_offered_requests_per_second)',
        'sum by (class) (rate(stampede_harness_requests_total{outcome="success"}[15s]))',
        'sum by (outcome) (rate(stampede_harness_requests_total{outcome!="success"}[15s])) > 0',
        'histogram_quantile(0.99, sum by (le, class, latency) (rate(stampede_harness_request_duration_seconds_bucket[15s])))',
        'sum by (endpoint) (rate(stampede_exchange_requests_total[15s]))',
        'histogram_quantile(0.99, sum by (le) (rate(stampede_exchange_order_ack_duration_seconds_bucket[15s])))',
        'max(stampede_exchange_projector_lag_seconds)', 'max(stampede_exchange_order_queue_depth)',
        'max by (symbol) (stampede_exchange_mark_price_usdt)', 'max(stampede_exchange_insurance_fund_usdt)',
        'sum(stampede_exchange_ws_clients)',
        'histogram_quantile(0.99, sum by (le, command) (rate(stampede_exchange_redis_command_duration_seconds_bucket[15s])))',
        'max by (phase) (stampede_harness_step_index)', 'max by (class) (stampede_harness_load_multiplier)',
        'histogram_quantile(0.99, sum by (le, stream) (rate(stampede_harness_feed_lag_seconds_bucket[15s])))',
    ]:
        result = _query(prometheus, expr)["data"]["result"]
        print(expr[:90], "=>", [(r["metric"], round(float(r["value"][1]), 4)) for r in result][:8])
