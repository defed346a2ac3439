"""Confluent's Python `ProtobufSerializer` against sluice's Schema Registry, for the Rust
tests: `produce URL TOPIC EVENTS.jsonl [BOOTSTRAP]` builds the standard order message type
(from a FileDescriptorProto, as protoc would), serializes each JSON event with it and
produces it. Prints one JSON summary."""
import json
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

F = descriptor_pb2.FieldDescriptorProto


def order_type():
    fd = descriptor_pb2.FileDescriptorProto(name="orders.proto", package="orders", syntax="proto3")
    order = fd.message_type.add(name="Order")
    for name, number, ty, label in [
        ("id", 1, F.TYPE_INT64, F.LABEL_OPTIONAL),
        ("user", 2, F.TYPE_STRING, F.LABEL_OPTIONAL),
        ("amount", 3, F.TYPE_DOUBLE, F.LABEL_OPTIONAL),
        ("currency", 4, F.TYPE_STRING, F.LABEL_OPTIONAL),
        ("ts", 5, F.TYPE_INT64, F.LABEL_OPTIONAL),
        ("country", 6, F.TYPE_STRING, F.LABEL_OPTIONAL),
        ("tags", 7, F.TYPE_STRING, F.LABEL_REPEATED),
        ("flag", 9, F.TYPE_BOOL, F.LABEL_OPTIONAL),
    ]:
        order.field.add(name=name, number=number, type=ty, label=label)
    order.field.add(name="device", number=8, type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL,
                    type_name=".orders.Device")
    # proto3 `optional string note = 10;`: a synthetic oneof.
    order.oneof_decl.add(name="_note")
    order.field.add(name="note", number=10, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL,
                    oneof_index=0, proto3_optional=True)
    device = fd.message_type.add(name="Device")
    device.field.add(name="os", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    device.field.add(name="version", number=2, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("orders.Order"))


mode, url, topic = sys.argv[1], sys.argv[2], sys.argv[3]
bootstrap = sys.argv[5] if len(sys.argv) > 5 else "127.0.0.1:9092"
registry = SchemaRegistryClient({"url": url})

if mode == "produce":
    Order = order_type()
    serializer = ProtobufSerializer(Order, registry)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    n = 0
    with open(sys.argv[4]) as f:
        for line in f:
            e = json.loads(line)
            msg = Order(id=e["id"], user=e["user"], amount=e["amount"], currency=e["currency"],
                        ts=e["ts"], country=e["country"], tags=e["tags"], flag=e["flag"])
            msg.device.os = e["device"]["os"]
            msg.device.version = e["device"]["version"]
            if e["note"] is not None:
                msg.note = e["note"]
            value = serializer(msg, SerializationContext(topic, MessageField.VALUE))
            while True:
                try:
                    producer.produce(topic, value=value, timestamp=e["ts"])
                    break
                except BufferError:
                    producer.poll(0.05)
            n += 1
            if n % 10000 == 0:
                producer.poll(0)
    producer.flush(60)
    print(json.dumps({"produced": n}))
