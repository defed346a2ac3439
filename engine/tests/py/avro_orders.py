"""Confluent's own Python clients against sluice's Schema Registry, for the Rust tests:
`produce URL TOPIC EVENTS.jsonl [BOOTSTRAP] [v2]` serializes each JSON event with
`AvroSerializer` (the standard order schema; with `v2`, that schema plus an optional `coupon`
field, set to "c<id>") and produces it; `consume URL TOPIC N` reads N records back with
`AvroDeserializer`. Prints one JSON summary."""
import json
import sys

from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

ORDER = {
    "type": "record",
    "name": "Order",
    "namespace": "orders",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "user", "type": "string"},
        {"name": "amount", "type": "double"},
        {"name": "currency", "type": "string"},
        {"name": "ts", "type": "long"},
        {"name": "country", "type": "string"},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "device", "type": {"type": "record", "name": "Device",
                                    "fields": [{"name": "os", "type": "string"},
                                               {"name": "version", "type": "string"}]}},
        {"name": "flag", "type": "boolean"},
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}

# Version 2: a new optional field with a default, which BACKWARD accepts.
ORDER_V2 = dict(ORDER, fields=ORDER["fields"] + [
    {"name": "coupon", "type": ["null", "string"], "default": None}])

mode, url, topic = sys.argv[1], sys.argv[2], sys.argv[3]
bootstrap = sys.argv[5] if len(sys.argv) > 5 else "127.0.0.1:9092"
registry = SchemaRegistryClient({"url": url})

if mode == "produce":
    v2 = len(sys.argv) > 6 and sys.argv[6] == "v2"
    serializer = AvroSerializer(registry, json.dumps(ORDER_V2 if v2 else ORDER))
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    n = 0
    with open(sys.argv[4]) as f:
        for line in f:
            event = json.loads(line)
            if v2:
                event["coupon"] = "c%d" % event["id"]
            value = serializer(event, SerializationContext(topic, MessageField.VALUE))
            while True:
                try:
                    producer.produce(topic, value=value, timestamp=event["ts"])
                    break
                except BufferError:
                    producer.poll(0.05)
            n += 1
            if n % 10000 == 0:
                producer.poll(0)
    producer.flush(60)
    print(json.dumps({"produced": n}))
elif mode == "consume":
    want = int(sys.argv[4])
    deserializer = AvroDeserializer(registry)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "avro-check-" + topic,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    records, idle = [], 0
    while len(records) < want and idle < 60:
        m = consumer.poll(1.0)
        if m is None:
            idle += 1
            continue
        if m.error():
            continue
        records.append(deserializer(m.value(), SerializationContext(topic, MessageField.VALUE)))
    consumer.close()
    print(json.dumps({"records": records}))
