// A real change-data source for sluice's tests: Debezium's PostgresConnector (pgoutput) run by
// Debezium's embedded engine, its records converted by Kafka Connect's own JsonConverter
// (schemas.enable=true, key and value) and produced to the broker, exactly as a Kafka Connect
// worker running the connector would write them (tombstones included).
//
// It snapshots the table, then runs the change script given on the command line through
// JDBC once the snapshot is on the topic, and exits when `expect` records in all have been
// produced and acknowledged.
//
// usage: DebeziumToKafka BOOTSTRAP TOPIC_PREFIX PG_PORT DB TABLE SNAPSHOT_ROWS EXPECT SCRIPT
//   SCRIPT: a file of SQL statements, one per line, run after SNAPSHOT_ROWS records arrived.

import io.debezium.engine.DebeziumEngine;
import io.debezium.embedded.EmbeddedEngineChangeEvent;
import io.debezium.engine.ChangeEvent;
import io.debezium.embedded.Connect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.source.SourceRecord;

public class DebeziumToKafka {
    public static void main(String[] args) throws Exception {
        if (args.length != 8) {
            System.err.println(
                    "usage: DebeziumToKafka BOOTSTRAP TOPIC_PREFIX PG_PORT DB TABLE SNAPSHOT_ROWS EXPECT SCRIPT");
            System.exit(2);
        }
        String bootstrap = args[0], prefix = args[1], port = args[2], db = args[3], table = args[4];
        long snapshotRows = Long.parseLong(args[5]);
        long expect = Long.parseLong(args[6]);
        List<String> script = Files.readAllLines(Path.of(args[7]));

        Map<String, String> json = new HashMap<>();
        json.put("schemas.enable", "true");
        JsonConverter keys = new JsonConverter();
        keys.configure(json, true);
        JsonConverter values = new JsonConverter();
        values.configure(json, false);

        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());

        Properties c = new Properties();
        c.setProperty("name", "sluice-cdc-" + prefix);
        c.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        c.setProperty("offset.storage", "org.apache.kafka.connect.storage.MemoryOffsetBackingStore");
        c.setProperty("offset.flush.interval.ms", "1000");
        c.setProperty("plugin.name", "pgoutput");
        c.setProperty("slot.name", prefix.replaceAll("[^a-z0-9_]", "_"));
        c.setProperty("publication.name", prefix.replaceAll("[^a-z0-9_]", "_") + "_pub");
        c.setProperty("publication.autocreate.mode", "filtered");
        c.setProperty("database.hostname", "127.0.0.1");
        c.setProperty("database.port", port);
        c.setProperty("database.user", "postgres");
        c.setProperty("database.password", "postgres");
        c.setProperty("database.dbname", db);
        c.setProperty("topic.prefix", prefix);
        c.setProperty("table.include.list", "public." + table);
        c.setProperty("snapshot.mode", "initial");
        c.setProperty("slot.drop.on.stop", "true");

        AtomicLong sent = new AtomicLong();
        AtomicLong acked = new AtomicLong();
        AtomicReference<Exception> failure = new AtomicReference<>();
        CountDownLatch snapshotted = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);

        DebeziumEngine<ChangeEvent<SourceRecord, SourceRecord>> engine = DebeziumEngine.create(Connect.class)
                .using(c)
                .notifying((List<ChangeEvent<SourceRecord, SourceRecord>> records,
                        DebeziumEngine.RecordCommitter<ChangeEvent<SourceRecord, SourceRecord>> committer) -> {
                    for (ChangeEvent<SourceRecord, SourceRecord> event : records) {
                        SourceRecord r = ((EmbeddedEngineChangeEvent<?, ?, ?>) event).sourceRecord();
                        byte[] k = keys.fromConnectData(r.topic(), r.keySchema(), r.key());
                        byte[] v = values.fromConnectData(r.topic(), r.valueSchema(), r.value());
                        producer.send(new ProducerRecord<>(r.topic(), 0, r.timestamp(), k, v),
                                (meta, e) -> {
                                    if (e != null) {
                                        failure.compareAndSet(null, e);
                                        done.countDown();
                                    } else if (acked.incrementAndGet() >= expect) {
                                        done.countDown();
                                    }
                                });
                        if (sent.incrementAndGet() == snapshotRows) {
                            snapshotted.countDown();
                        }
                        committer.markProcessed(event);
                    }
                    committer.markBatchFinished();
                })
                .using((success, message, error) -> {
                    if (!success) {
                        failure.compareAndSet(null, new Exception(message, error));
                        snapshotted.countDown();
                        done.countDown();
                    }
                })
                .build();
        ExecutorService executor = Executors.newSingleThreadExecutor();
        executor.execute(engine);

        if (!snapshotted.await(300, TimeUnit.SECONDS)) {
            throw new IllegalStateException("snapshot did not finish: " + sent.get() + " records");
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        producer.flush();
        System.out.println("snapshot: " + sent.get() + " records");
        try (Connection conn = DriverManager.getConnection(
                        "jdbc:postgresql://127.0.0.1:" + port + "/" + db, "postgres", "postgres");
                Statement st = conn.createStatement()) {
            for (String sql : script) {
                if (!sql.isBlank()) {
                    st.execute(sql);
                }
            }
        }
        if (!done.await(300, TimeUnit.SECONDS)) {
            throw new IllegalStateException(
                    "expected " + expect + " records, produced " + sent.get() + ", acknowledged " + acked.get());
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        producer.flush();
        producer.close();
        System.out.println("done: " + acked.get() + " records acknowledged");
        engine.close();
        executor.shutdown();
        executor.awaitTermination(60, TimeUnit.SECONDS);
        System.exit(0);
    }
}
