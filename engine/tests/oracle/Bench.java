// Kafka Connect's throughput on the standard benchmark events (shared/bench-events.md), measured
// the way sluice's in-process bench measures sluice, so the two can be put side by side.
//
// The events are generated into memory first (not measured), one consumer record each: topic
// "orders", partition i % 4, offset i, CreateTime the event's ts, no key, no headers. Each pass
// configures a ConnectPipeline, as a task does when it starts, and then only the loop that runs
// every record through it (converters in, the chain, converters out) is timed: wall time, and the
// CPU time of the whole JVM, which includes the GC and JIT threads. A warm-up pass that is not
// reported comes first, so that the runs measure compiled code; the summary is the median of the
// runs. The sums of the output (value bytes, records dropped and failed) are reported so that a
// run that did no work, or failed its way through, shows.
//
// With --avro the events are JsonConverter envelopes re-encoded (before timing) by Confluent's
// AvroConverter into the `mock://` registry the config's value converter names, so a config
// with AvroConverter in and out measures the Avro round trip.
//
// usage: Bench --config CONFIG.json --records N [--envelope | --avro] [--runs R] [--warmup-records M]
//        Bench --print-events N [--envelope]
// CONFIG.json is a flat JSON object of connector properties (string to string). Prints one JSON
// object on stdout. --print-events writes events 0..N-1, a newline after each, and exits.

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToDoubleFunction;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.utils.AppInfoParser;

public final class Bench {
    private static final String TOPIC = "orders";
    private static final int PARTITIONS = 4;
    private static final int DEFAULT_WARMUP_RECORDS = 200_000;

    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /** The command line. printEvents is -1 unless --print-events was given. */
    private record Options(String config, int records, boolean envelope, boolean avro, int runs,
                           int warmupRecords, int printEvents) {
        static Options parse(String[] args) {
            String config = null;
            int records = -1, runs = 3, warmup = -1, printEvents = -1;
            boolean envelope = false, avro = false;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--config" -> config = value(args, ++i);
                    case "--records" -> records = count(args, ++i, 1);
                    case "--envelope" -> envelope = true;
                    case "--avro" -> avro = true;
                    case "--runs" -> runs = count(args, ++i, 1);
                    case "--warmup-records" -> warmup = count(args, ++i, 0);
                    case "--print-events" -> printEvents = count(args, ++i, 0);
                    default -> throw new IllegalArgumentException("unknown argument " + args[i]);
                }
            }
            if (printEvents < 0 && (config == null || records < 0)) {
                throw new IllegalArgumentException("--config and --records are required");
            }
            return new Options(config, records, envelope || avro, avro, runs,
                    warmup >= 0 ? warmup : Math.min(records, DEFAULT_WARMUP_RECORDS), printEvents);
        }

        private static String value(String[] args, int i) {
            if (i >= args.length) {
                throw new IllegalArgumentException(args[i - 1] + " needs a value");
            }
            return args[i];
        }

        private static int count(String[] args, int i, int min) {
            String text = value(args, i);
            try {
                int n = Integer.parseInt(text);
                if (n >= min) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // reported below, with the range
            }
            throw new IllegalArgumentException(args[i - 1] + " needs an integer >= " + min + ", not " + text);
        }
    }

    /** One pass over the records: what it cost and what came out. */
    private record Pass(double cpuSeconds, double wallSeconds, long outputValueBytes, long dropped, long failed,
                        ConnectPipeline.StageFailure firstFailure) {
        boolean sameOutput(Pass other) {
            return outputValueBytes == other.outputValueBytes && dropped == other.dropped && failed == other.failed;
        }
    }

    public static void main(String[] args) throws IOException {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("Bench: " + e.getMessage());
            System.err.println("usage: Bench --config CONFIG.json --records N [--envelope | --avro] [--runs R] [--warmup-records M]");
            System.err.println("       Bench --print-events N [--envelope]");
            System.exit(2);
            return;
        }
        if (options.printEvents() >= 0) {
            printEvents(options.printEvents(), options.envelope());
            return;
        }
        Map<String, String> config = readConfig(options.config());
        List<ConsumerRecord<byte[], byte[]>> records = records(options.records(), options.envelope());
        if (options.avro()) {
            records = toAvro(records, config);
        }
        ConnectPipeline.installPlugins();

        List<Pass> runs = new ArrayList<>();
        try {
            if (options.warmupRecords() > 0) {
                pass(config, records, options.warmupRecords());
            }
            for (int r = 0; r < options.runs(); r++) {
                runs.add(pass(config, records, records.size()));
            }
        } catch (ConnectPipeline.StageFailure failure) {
            System.err.println("Bench: Kafka Connect failed in stage " + failure.stage
                    + (ConnectPipeline.CONFIG.equals(failure.stage) ? "" : " on the first record") + ":");
            failure.exception().printStackTrace();
            System.exit(1);
            return;
        }
        Pass last = runs.get(runs.size() - 1);
        for (Pass run : runs) {
            if (!run.sameOutput(last)) {
                System.err.println("Bench: the runs disagree on their output: " + runs);
                System.exit(1);
            }
        }
        if (last.firstFailure() != null) {
            System.err.println("Bench: " + last.failed() + " records failed; the first in stage "
                    + last.firstFailure().stage + ": " + last.firstFailure().exception());
        }
        System.out.println(report(records.size(), runs));
    }

    /**
     * Configures a pipeline and runs the first {@code count} records through it (cycling when there
     * are fewer), timing the loop only.
     *
     * @throws ConnectPipeline.StageFailure when the configuration or the first record fails
     */
    private static Pass pass(Map<String, String> config, List<ConsumerRecord<byte[], byte[]>> records, int count)
            throws ConnectPipeline.StageFailure {
        ConnectPipeline pipeline = ConnectPipeline.configure(config, Map.of());
        // Each run pays for its own garbage only, not for the generator's or the previous run's
        // (JMH collects between iterations for the same reason).
        System.gc();
        long valueBytes = 0, dropped = 0, failed = 0;
        ConnectPipeline.StageFailure firstFailure = null;
        long cpu0 = OS.getProcessCpuTime();
        long wall0 = System.nanoTime();
        for (int i = 0; i < count; i++) {
            try {
                ConnectPipeline.Output out = pipeline.process(records.get(i % records.size()));
                if (out == null) {
                    dropped++;
                } else if (out.value() != null) {
                    valueBytes += out.value().length;
                }
            } catch (ConnectPipeline.StageFailure failure) {
                if (i == 0) {
                    throw failure;
                }
                if (firstFailure == null) {
                    firstFailure = failure;
                }
                failed++;
            }
        }
        long wall = System.nanoTime() - wall0;
        long cpu = OS.getProcessCpuTime() - cpu0;
        return new Pass(cpu / 1e9, wall / 1e9, valueBytes, dropped, failed, firstFailure);
    }

    private static String report(int records, List<Pass> runs) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode report = mapper.createObjectNode();
        report.put("records", records);
        ArrayNode list = report.putArray("runs");
        for (Pass run : runs) {
            list.addObject()
                    .put("cpu_seconds", run.cpuSeconds())
                    .put("wall_seconds", run.wallSeconds())
                    .put("records_per_cpu_second", records / run.cpuSeconds())
                    .put("records_per_wall_second", records / run.wallSeconds());
        }
        report.put("median_records_per_cpu_second", median(runs, run -> records / run.cpuSeconds()));
        report.put("median_records_per_wall_second", median(runs, run -> records / run.wallSeconds()));
        Pass last = runs.get(runs.size() - 1);
        report.put("output_value_bytes", last.outputValueBytes());
        report.put("dropped", last.dropped());
        report.put("failed", last.failed());
        report.put("java", System.getProperty("java.version"));
        report.put("kafka", AppInfoParser.getVersion());
        return mapper.writeValueAsString(report);
    }

    // The middle run, the upper one of the two middles for an even count, as sluice's bench does.
    private static double median(List<Pass> runs, ToDoubleFunction<Pass> rate) {
        double[] rates = runs.stream().mapToDouble(rate).sorted().toArray();
        return rates[rates.length / 2];
    }

    private static Map<String, String> readConfig(String path) throws IOException {
        JsonNode node = new ObjectMapper().readTree(new File(path));
        if (node == null || !node.isObject()) {
            throw new IOException(path + " is not a JSON object");
        }
        Map<String, String> config = new HashMap<>();
        for (Map.Entry<String, JsonNode> entry : node.properties()) {
            if (!entry.getValue().isTextual()) {
                throw new IOException(path + ": " + entry.getKey() + " is not a string");
            }
            config.put(entry.getKey(), entry.getValue().textValue());
        }
        return config;
    }

    private static List<ConsumerRecord<byte[], byte[]>> records(int count, boolean envelope) {
        OrderEvents events = new OrderEvents();
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            byte[] value = events.next(envelope);
            records.add(new ConsumerRecord<>(TOPIC, i % PARTITIONS, i, events.lastTimestamp(),
                    TimestampType.CREATE_TIME, -1, value.length, null, value, new RecordHeaders(), Optional.empty()));
        }
        return records;
    }

    /** The records' envelope values as Confluent's AvroConverter writes them (not timed). */
    private static List<ConsumerRecord<byte[], byte[]>> toAvro(List<ConsumerRecord<byte[], byte[]>> records,
                                                              Map<String, String> config) {
        String url = config.get("value.converter.schema.registry.url");
        if (url == null || !url.startsWith("mock://")) {
            throw new IllegalArgumentException("--avro needs value.converter.schema.registry.url=mock://...");
        }
        org.apache.kafka.connect.json.JsonConverter json = new org.apache.kafka.connect.json.JsonConverter();
        json.configure(Map.of("schemas.enable", "true"), false);
        io.confluent.connect.avro.AvroConverter avro =
                new io.confluent.connect.avro.AvroConverter(ConnectPipeline.mockScope(url.substring("mock://".length())));
        avro.configure(Map.of("schema.registry.url", url), false);
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>(records.size());
        for (ConsumerRecord<byte[], byte[]> r : records) {
            org.apache.kafka.connect.data.SchemaAndValue sv = json.toConnectData(r.topic(), r.value());
            byte[] value = avro.fromConnectData(r.topic(), sv.schema(), sv.value());
            out.add(new ConsumerRecord<>(r.topic(), r.partition(), r.offset(), r.timestamp(),
                    TimestampType.CREATE_TIME, -1, value.length, null, value, new RecordHeaders(), Optional.empty()));
        }
        return out;
    }

    private static void printEvents(int count, boolean envelope) throws IOException {
        OrderEvents events = new OrderEvents();
        try (OutputStream out = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16)) {
            for (int i = 0; i < count; i++) {
                out.write(events.next(envelope));
                out.write('\n');
            }
        }
    }

    /** The generator of shared/bench-events.md: events 0, 1, 2, ... in order. */
    private static final class OrderEvents {
        private static final String[] CURRENCIES = {"EUR", "USD", "GBP", "JPY", "CHF", "SEK"};
        private static final String[] COUNTRIES = {"DE", "FR", "US", "GB", "NL", "SE", "JP", "CH", "ES", "IT", "PL", "BR"};
        private static final String[] TAGS = {"promo", "mobile", "returning", "newsletter", "first-order", "gift",
                "express", "loyalty-gold"};
        private static final String[] OSES = {"android", "ios", "windows", "macos", "linux"};
        private static final String[] DOMAINS = {"example.com", "mail.example.org", "shop.example.net", "corp.example.de"};
        // As they appear inside the JSON string, already escaped.
        private static final String[] NOTES = {
                "please leave the parcel with the neighbour at number 12 if nobody answers the door",
                "gift wrap requested; add a handwritten card saying \\\"happy birthday, see you soon\\\"",
                "customer called support twice about the delivery window, escalate to the logistics team if late again",
                "deliver after 5pm on weekdays, ring the bell twice and wait, the intercom is broken",
                "fragile: glassware inside, handle with care and keep upright during transport at all times",
                "invoice to company address, VAT id on file, reference PO-2024-118733 for accounting",
                "no substitutions please; if an item is out of stock cancel that line and refund it",
                "repeat order of last month with one extra item added via the mobile app checkout flow",
        };
        // The JsonConverter schema of the envelope variant (W2).
        private static final String SCHEMA = "{\"type\":\"struct\",\"fields\":["
                + "{\"type\":\"int64\",\"optional\":false,\"field\":\"id\"},"
                + "{\"type\":\"string\",\"optional\":false,\"field\":\"user\"},"
                + "{\"type\":\"double\",\"optional\":false,\"field\":\"amount\"},"
                + "{\"type\":\"string\",\"optional\":false,\"field\":\"currency\"},"
                + "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts\"},"
                + "{\"type\":\"string\",\"optional\":false,\"field\":\"country\"},"
                + "{\"type\":\"array\",\"items\":{\"type\":\"string\",\"optional\":false},\"optional\":false,\"field\":\"tags\"},"
                + "{\"type\":\"struct\",\"fields\":["
                + "{\"type\":\"string\",\"optional\":false,\"field\":\"os\"},"
                + "{\"type\":\"string\",\"optional\":false,\"field\":\"version\"}],"
                + "\"optional\":false,\"name\":\"orders.Device\",\"field\":\"device\"},"
                + "{\"type\":\"boolean\",\"optional\":false,\"field\":\"flag\"},"
                + "{\"type\":\"string\",\"optional\":true,\"field\":\"note\"}],"
                + "\"optional\":false,\"name\":\"orders.Order\"}";

        private long state = 42;
        private long index;
        private long lastTimestamp;

        // splitmix64.
        private long nextLong() {
            state += 0x9E3779B97F4A7C15L;
            long z = state;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }

        private long below(long bound) {
            return Long.remainderUnsigned(nextLong(), bound);
        }

        private String pick(String[] items) {
            return items[(int) below(items.length)];
        }

        /** The next event's bytes, schemaless or in a JsonConverter envelope. */
        byte[] next(boolean envelope) {
            long i = index++;
            // The draws in the order the spec fixes.
            long userNo = below(5_000_000);
            String domain = pick(DOMAINS);
            long cents = below(1_000_000);
            String currency = pick(CURRENCIES);
            lastTimestamp = 1_704_067_200_000L + i * 1000 + below(1000);
            String country = pick(COUNTRIES);
            long tags = 1 + below(4);

            StringBuilder out = new StringBuilder(1200);
            if (envelope) {
                out.append("{\"schema\":").append(SCHEMA).append(",\"payload\":");
            }
            String user = Long.toString(userNo);
            out.append("{\"id\":").append(1_000_000_000L + i)
                    .append(",\"user\":\"customer-").append("0".repeat(7 - user.length())).append(user)
                    .append('@').append(domain)
                    .append("\",\"amount\":").append(cents / 100).append('.').append(cents % 100 < 10 ? "0" : "")
                    .append(cents % 100)
                    .append(",\"currency\":\"").append(currency)
                    .append("\",\"ts\":").append(lastTimestamp)
                    .append(",\"country\":\"").append(country)
                    .append("\",\"tags\":[");
            for (long t = 0; t < tags; t++) {
                out.append(t > 0 ? ",\"" : "\"").append(pick(TAGS)).append('"');
            }
            String os = pick(OSES);
            long v1 = below(17), v2 = below(10), v3 = below(30);
            boolean flag = (nextLong() & 1) == 1;
            long noteSel = below(40);
            String note = noteSel < 8 ? "" : NOTES[(int) (noteSel % 8)];
            out.append("],\"device\":{\"os\":\"").append(os)
                    .append("\",\"version\":\"").append(v1).append('.').append(v2).append('.').append(v3)
                    .append("\"},\"flag\":").append(flag)
                    .append(",\"note\":\"").append(note).append("\"}");
            if (envelope) {
                out.append('}');
            }
            return out.toString().getBytes(StandardCharsets.UTF_8);
        }

        /** The timestamp (epoch ms) of the event next() returned last. */
        long lastTimestamp() {
            return lastTimestamp;
        }
    }
}
