"""What the local Lambda runtime, the tests, the benchmarks and the event scripts share (development only:
never deployed, not in the wheel).

- `lambda_context`: the one stand-in for Lambda's context object.
- `kinesis`, `sqs`: the one set of Lambda event envelope builders (Kinesis and SQS event source mappings),
  with the test factories' defaults on top.
- `records`: face-search records shaped like a stream processor's.
- `aws`: AWS call accounting, injected faults and queue/bucket readers on botocore clients;
  `environment`: the fake credentials and cleared overrides every emulated run starts from.
"""
