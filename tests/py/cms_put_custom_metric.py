"""The query the official SDK (alibabacloud_cms20190101) sends for PutCustomMetric.

Reads a JSON object of `MetricList.N.Field` parameters (what the function sent, as the stand-in
control plane logged them), builds the SDK's `PutCustomMetricRequest` from the same values
field by field, validates it, and prints the query the SDK's client would send
(`Utils.query({"MetricList": ...})`, as `put_custom_metric_with_options` does), as JSON.
tests/push.rs compares it with the function's parameters: same names, same values.
"""
import json
import sys

from alibabacloud_cms20190101 import models
from alibabacloud_tea_openapi.utils import Utils

params = json.load(sys.stdin)
entries = []
n = 1
while f"MetricList.{n}.MetricName" in params:
    field = lambda name: params.get(f"MetricList.{n}.{name}")  # noqa: E731
    entries.append(
        models.PutCustomMetricRequestMetricList(
            dimensions=field("Dimensions"),
            group_id=field("GroupId"),
            metric_name=field("MetricName"),
            period=field("Period"),
            time=field("Time"),
            type=field("Type"),
            values=field("Values"),
        )
    )
    n += 1
request = models.PutCustomMetricRequest(metric_list=entries)
request.validate()
print(json.dumps(Utils.query({"MetricList": request.metric_list}), sort_keys=True))
