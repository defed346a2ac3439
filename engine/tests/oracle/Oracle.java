// The Kafka Connect oracle: what the real Kafka Connect does with conformance cases.
//
// Reads test cases, one JSON object a line in the corpus format of shared/conformance/README.md,
// on standard input, and writes for each line, in order, one line
//   {"id": ID, "expect": EXPECT}
// where EXPECT is the outcome of running the case through ConnectPipeline, in the corpus's
// `expect` format. A line that is not a case this oracle can run gives
//   {"id": ID or null, "oracle_error": "..."}
// and the next line is read.
//
// usage: java -cp CLASSES:KAFKA_CONNECT_CLASSPATH Oracle < cases.jsonl > outcomes.jsonl

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TimeZone;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;

public final class Oracle {
    /** A line that is not a case the oracle can run. */
    private static final class BadCase extends Exception {
        BadCase(String message) {
            super(message);
        }
    }

    private final ObjectMapper mapper = new ObjectMapper();
    private final CharsetDecoder utf8Decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    private final CharsetEncoder utf8Encoder = StandardCharsets.UTF_8.newEncoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);

    public static void main(String[] args) throws IOException {
        // The corpus was recorded in time zone UTC and locale en-US, which show in the rendering of
        // dates and times (SimpleHeaderConverter, Date.toString(), SimpleDateFormat).
        TimeZone.setDefault(TimeZone.getTimeZone("UTC"));
        Locale.setDefault(Locale.forLanguageTag("en-US"));
        // A NullPointerException's "helpful" message (JEP 358) is the JVM's text, not Kafka's; the
        // corpus records a NullPointerException without a message.
        ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                .setVMOption("ShowCodeDetailsInExceptionMessages", "false");
        ConnectPipeline.installPlugins();
        new Oracle().run();
    }

    private void run() throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8), 1 << 16);
        try (JsonGenerator out = mapper.getFactory().createGenerator(
                new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16))) {
            out.setRootValueSeparator(null);
            for (String line; (line = in.readLine()) != null; ) {
                answer(line, out);
                out.writeRaw('\n');
                // Answers go out whenever the input runs dry, so a caller that writes a chunk and
                // then waits for its answers never waits on our buffer.
                if (!in.ready()) {
                    out.flush();
                }
            }
        }
    }

    private void answer(String line, JsonGenerator out) throws IOException {
        String id = null;
        Object outcome = null;
        String oracleError = null;
        try {
            JsonNode c = mapper.readTree(line);
            if (c == null || !c.isObject()) {
                throw new BadCase("not a JSON object");
            }
            id = text(c, "id");
            outcome = outcome(c);
        } catch (BadCase e) {
            oracleError = e.getMessage();
        } catch (IOException | RuntimeException | StackOverflowError e) {
            // Not a stage failure (those are outcomes): a line that is not JSON, a case Kafka could
            // not be given (e.g. no key.converter, a timestamp below -1), or an Error, which
            // Kafka's error handling does not catch either.
            oracleError = e.toString();
        }
        out.writeStartObject();
        out.writeStringField("id", id);
        if (oracleError != null) {
            out.writeStringField("oracle_error", oracleError);
        } else {
            out.writeFieldName("expect");
            writeExpect(outcome, out);
        }
        out.writeEndObject();
    }

    /** The case's outcome: a ConnectPipeline.Output, a StageFailure, or null when dropped. */
    private Object outcome(JsonNode c) throws BadCase {
        Map<String, String> connectorConfig = stringMap(c, "connector_config", true);
        Map<String, String> outConverters = stringMap(c, "out_converters", false);
        ConsumerRecord<byte[], byte[]> record = record(field(c, "input", true));
        try {
            return ConnectPipeline.configure(connectorConfig, outConverters).process(record);
        } catch (ConnectPipeline.StageFailure failure) {
            return failure;
        }
    }

    private ConsumerRecord<byte[], byte[]> record(JsonNode input) throws BadCase {
        if (!input.isObject()) {
            throw new BadCase("input is not an object");
        }
        String topic = text(input, "topic");
        if (topic == null) {
            throw new BadCase("input.topic is missing");
        }
        int partition = (int) integer(input, "partition", Integer.MIN_VALUE, Integer.MAX_VALUE);
        long offset = integer(input, "offset", Long.MIN_VALUE, Long.MAX_VALUE);
        long timestamp = integer(input, "timestamp", Long.MIN_VALUE, Long.MAX_VALUE);
        TimestampType timestampType = timestampType(text(input, "timestamp_type"));
        byte[] key = bytes(field(input, "key", true), "input.key");
        byte[] value = bytes(field(input, "value", true), "input.value");
        RecordHeaders headers = new RecordHeaders();
        JsonNode list = field(input, "headers", false);
        if (list != null && !list.isNull()) {
            if (!list.isArray()) {
                throw new BadCase("input.headers is not an array");
            }
            for (JsonNode header : list) {
                String name = header.isObject() ? text(header, "key") : null;
                if (name == null) {
                    throw new BadCase("input.headers has an entry without a key");
                }
                headers.add(name, bytes(field(header, "value", true), "input.headers value"));
            }
        }
        return new ConsumerRecord<>(topic, partition, offset, timestamp, timestampType,
                key == null ? -1 : key.length, value == null ? -1 : value.length, key, value, headers, Optional.empty());
    }

    private void writeExpect(Object outcome, JsonGenerator out) throws IOException {
        out.writeStartObject();
        if (outcome == null) {
            out.writeBooleanField("dropped", true);
        } else if (outcome instanceof ConnectPipeline.StageFailure failure) {
            Exception e = failure.exception();
            out.writeObjectFieldStart("error");
            out.writeStringField("stage", failure.stage);
            out.writeStringField("exception", e.getClass().getName());
            out.writeStringField("message", e.getMessage());
            out.writeEndObject();
        } else {
            ConnectPipeline.Output record = (ConnectPipeline.Output) outcome;
            out.writeStringField("topic", record.topic());
            out.writeFieldName("partition");
            if (record.partition() == null) {
                out.writeNull();
            } else {
                out.writeNumber(record.partition());
            }
            out.writeFieldName("timestamp");
            if (record.timestamp() == null) {
                out.writeNull();
            } else {
                out.writeNumber(record.timestamp());
            }
            out.writeFieldName("key");
            writeBytes(record.key(), out);
            out.writeFieldName("value");
            writeBytes(record.value(), out);
            out.writeArrayFieldStart("headers");
            for (Header header : record.headers()) {
                out.writeStartObject();
                out.writeStringField("key", header.key());
                out.writeFieldName("value");
                writeBytes(header.value(), out);
                out.writeEndObject();
            }
            out.writeEndArray();
        }
        out.writeEndObject();
    }

    // BYTES: {"utf8": ...} when the bytes are valid UTF-8, else {"base64": ...}; null for null.
    private void writeBytes(byte[] bytes, JsonGenerator out) throws IOException {
        if (bytes == null) {
            out.writeNull();
            return;
        }
        out.writeStartObject();
        String text = utf8(bytes);
        if (text != null) {
            out.writeStringField("utf8", text);
        } else {
            out.writeStringField("base64", Base64.getEncoder().encodeToString(bytes));
        }
        out.writeEndObject();
    }

    private String utf8(byte[] bytes) {
        try {
            return utf8Decoder.reset().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private byte[] bytes(JsonNode node, String what) throws BadCase {
        if (node.isNull()) {
            return null;
        }
        JsonNode utf8 = node.get("utf8");
        JsonNode base64 = node.get("base64");
        if (!node.isObject() || node.size() != 1 || (utf8 == null) == (base64 == null)) {
            throw new BadCase(what + " is not null, {\"utf8\": ...} or {\"base64\": ...}");
        }
        if (utf8 != null) {
            if (!utf8.isTextual()) {
                throw new BadCase(what + ".utf8 is not a string");
            }
            try {
                ByteBuffer encoded = utf8Encoder.reset().encode(CharBuffer.wrap(utf8.textValue()));
                byte[] result = new byte[encoded.remaining()];
                encoded.get(result);
                return result;
            } catch (CharacterCodingException e) {
                throw new BadCase(what + ".utf8 is not valid Unicode (unpaired surrogate)");
            }
        }
        if (!base64.isTextual()) {
            throw new BadCase(what + ".base64 is not a string");
        }
        try {
            return Base64.getDecoder().decode(base64.textValue());
        } catch (IllegalArgumentException e) {
            throw new BadCase(what + ".base64 is not base64: " + e.getMessage());
        }
    }

    private static TimestampType timestampType(String name) throws BadCase {
        for (TimestampType type : TimestampType.values()) {
            if (type.name.equals(name)) {
                return type;
            }
        }
        throw new BadCase("input.timestamp_type is not CreateTime, LogAppendTime or NoTimestampType: " + name);
    }

    private static Map<String, String> stringMap(JsonNode c, String name, boolean required) throws BadCase {
        JsonNode node = field(c, name, required);
        Map<String, String> map = new HashMap<>();
        if (node == null) {
            return map;
        }
        if (!node.isObject()) {
            throw new BadCase(name + " is not an object");
        }
        for (Map.Entry<String, JsonNode> entry : node.properties()) {
            if (!entry.getValue().isTextual()) {
                throw new BadCase(name + "." + entry.getKey() + " is not a string");
            }
            map.put(entry.getKey(), entry.getValue().textValue());
        }
        return map;
    }

    private static JsonNode field(JsonNode node, String name, boolean required) throws BadCase {
        JsonNode value = node.get(name);
        if (value == null && required) {
            throw new BadCase(name + " is missing");
        }
        return value;
    }

    private static String text(JsonNode node, String name) throws BadCase {
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw new BadCase(name + " is not a string");
        }
        return value.textValue();
    }

    private static long integer(JsonNode node, String name, long min, long max) throws BadCase {
        JsonNode value = field(node, name, true);
        if (!value.isIntegralNumber() || !value.canConvertToLong() || value.longValue() < min || value.longValue() > max) {
            throw new BadCase("input." + name + " is not an integer in range");
        }
        return value.longValue();
    }
}
