// One connector configuration run through the real Kafka Connect classes as a sink pipeline, the
// way the conformance corpus (shared/conformance/README.md, "Pipeline semantics") defines it and
// WorkerSinkTask runs it: converters in, the transformation chain, converters out. Built once per
// configuration (the CONFIG stage), then process() takes one consumer record at a time.
//
// The connector-level checks are Kafka's own: a ConnectorConfig over the converter, transforms and
// predicates keys of Kafka's connector ConfigDef, enriched by Kafka with each alias's type,
// predicate and negate. No connector.class is named, so Kafka does not embed the plugins' own
// ConfigDefs; their settings are checked by the plugins' configure() (un-prefixed messages, as the
// corpus records them).

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.header.Headers;
import org.apache.kafka.connect.runtime.ConnectorConfig;
import org.apache.kafka.connect.runtime.WorkerConfig;
import org.apache.kafka.connect.runtime.isolation.PluginDiscoveryMode;
import org.apache.kafka.connect.runtime.isolation.Plugins;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.storage.Converter;
import org.apache.kafka.connect.storage.ConverterConfig;
import org.apache.kafka.connect.storage.ConverterType;
import org.apache.kafka.connect.storage.HeaderConverter;
import org.apache.kafka.connect.storage.SimpleHeaderConverter;
import org.apache.kafka.connect.transforms.Transformation;
import org.apache.kafka.connect.transforms.predicates.Predicate;
import org.apache.kafka.connect.util.ConnectUtils;

public final class ConnectPipeline {
    public static final String CONFIG = "CONFIG";
    public static final String KEY_CONVERTER = "KEY_CONVERTER";
    public static final String VALUE_CONVERTER = "VALUE_CONVERTER";
    public static final String HEADER_CONVERTER = "HEADER_CONVERTER";
    public static final String TRANSFORMATION = "TRANSFORMATION";

    // TransformationStage's PREDICATE_CONFIG and NEGATE_CONFIG, which are package-private.
    private static final String PREDICATE = "predicate";
    private static final String NEGATE = "negate";

    // The *.plugin.version keys are left out: the class path holds one version of each plugin.
    // CONVERTER_KEYS reads out_converters, which names converters only.
    private static final ConfigDef CONNECTOR_KEYS = keysOf(ConnectorConfig.configDef(),
            ConnectorConfig.KEY_CONVERTER_CLASS_CONFIG, ConnectorConfig.VALUE_CONVERTER_CLASS_CONFIG,
            ConnectorConfig.HEADER_CONVERTER_CLASS_CONFIG, ConnectorConfig.TRANSFORMS_CONFIG,
            ConnectorConfig.PREDICATES_CONFIG);
    private static final ConfigDef CONVERTER_KEYS = keysOf(ConnectorConfig.configDef(),
            ConnectorConfig.KEY_CONVERTER_CLASS_CONFIG, ConnectorConfig.VALUE_CONVERTER_CLASS_CONFIG,
            ConnectorConfig.HEADER_CONVERTER_CLASS_CONFIG);

    private static Plugins plugins;

    /** The first failure of a record or a configuration: the corpus's stage and what Kafka threw. */
    public static final class StageFailure extends Exception {
        public final String stage;

        StageFailure(String stage, Exception cause) {
            super(cause);
            this.stage = stage;
        }

        public Exception exception() {
            return (Exception) getCause();
        }
    }

    /** A record after the chain, converted back to bytes. */
    public record Output(String topic, Integer partition, Long timestamp, byte[] key, byte[] value,
                         Iterable<Header> headers) {
    }

    private record Stage(Transformation<SinkRecord> transformation, Predicate<SinkRecord> predicate,
                         boolean negate) {
    }

    @FunctionalInterface
    private interface StageCall<T> {
        T call() throws Exception;
    }

    private final Converter keyIn, valueIn, keyOut, valueOut;
    private final HeaderConverter headersIn, headersOut;
    private final List<Stage> stages;

    private ConnectPipeline(Converter keyIn, Converter valueIn, HeaderConverter headersIn, List<Stage> stages,
                            Converter keyOut, Converter valueOut, HeaderConverter headersOut) {
        this.keyIn = keyIn;
        this.valueIn = valueIn;
        this.headersIn = headersIn;
        this.stages = stages;
        this.keyOut = keyOut;
        this.valueOut = valueOut;
        this.headersOut = headersOut;
    }

    /**
     * Discovers the plugins on the class path as a Connect worker does at startup and makes Kafka's
     * delegating class loader the calling thread's context loader, so that class names resolve
     * through Kafka's plugin aliases ("JsonConverter", "Json", "Filter", ...) exactly as in a
     * worker. Call once per thread before configure(). ServiceLoader discovery, because the
     * reflective scan of the default hybrid mode needs the reflections library, which is not on the
     * class path; Kafka's own plugins are all declared to the ServiceLoader.
     */
    public static synchronized void installPlugins() {
        if (plugins == null) {
            plugins = new Plugins(Map.of(WorkerConfig.PLUGIN_DISCOVERY_CONFIG, PluginDiscoveryMode.SERVICE_LOAD.name()));
        }
        plugins.compareAndSwapWithDelegatingLoader();
    }

    /**
     * Builds the pipeline of one connector configuration; {@code outConverters} names the output
     * side's converters where they differ (empty: the input side's converters convert back).
     *
     * @throws StageFailure in stage CONFIG
     * @throws IllegalArgumentException when the configuration names no key or value converter
     *         (a worker would fall back to its own; the corpus always names both)
     */
    public static ConnectPipeline configure(Map<String, String> connectorConfig, Map<String, String> outConverters)
            throws StageFailure {
        if (!connectorConfig.containsKey(ConnectorConfig.KEY_CONVERTER_CLASS_CONFIG)
                || !connectorConfig.containsKey(ConnectorConfig.VALUE_CONVERTER_CLASS_CONFIG)) {
            throw new IllegalArgumentException("connector_config must name key.converter and value.converter");
        }
        try {
            ConnectorConfig in = new ConnectorConfig(plugins, CONNECTOR_KEYS, connectorConfig);
            // Worker.startTask's order: key, value and header converter, then the transformations;
            // then the output side's converters, which a sink task does not have.
            Converter keyIn = converter(in, ConnectorConfig.KEY_CONVERTER_CLASS_CONFIG, true);
            Converter valueIn = converter(in, ConnectorConfig.VALUE_CONVERTER_CLASS_CONFIG, false);
            HeaderConverter headersIn = headerConverter(in);
            List<Stage> stages = stages(in);

            ConnectorConfig out = new ConnectorConfig(plugins, CONVERTER_KEYS, outConverters);
            Converter keyOut = named(out, ConnectorConfig.KEY_CONVERTER_CLASS_CONFIG)
                    ? converter(out, ConnectorConfig.KEY_CONVERTER_CLASS_CONFIG, true) : keyIn;
            Converter valueOut = named(out, ConnectorConfig.VALUE_CONVERTER_CLASS_CONFIG)
                    ? converter(out, ConnectorConfig.VALUE_CONVERTER_CLASS_CONFIG, false) : valueIn;
            HeaderConverter headersOut = named(out, ConnectorConfig.HEADER_CONVERTER_CLASS_CONFIG)
                    ? headerConverter(out) : headersIn;
            return new ConnectPipeline(keyIn, valueIn, headersIn, stages, keyOut, valueOut, headersOut);
        } catch (Exception e) {
            throw new StageFailure(CONFIG, e);
        }
    }

    /**
     * Runs one record through the pipeline: WorkerSinkTask.convertAndTransformRecord, then the
     * conversion back to bytes as AbstractWorkerSourceTask.convertTransformedRecord does it
     * (headers first, then key and value, both given the converted headers).
     *
     * @return the converted record, or null when a transformation dropped it
     * @throws StageFailure at the first failure
     */
    public Output process(ConsumerRecord<byte[], byte[]> msg) throws StageFailure {
        SchemaAndValue key = run(KEY_CONVERTER, () -> keyIn.toConnectData(msg.topic(), msg.headers(), msg.key()));
        SchemaAndValue value = run(VALUE_CONVERTER, () -> valueIn.toConnectData(msg.topic(), msg.headers(), msg.value()));
        Headers headers = run(HEADER_CONVERTER, () -> connectHeaders(msg));
        SinkRecord original = new SinkRecord(msg.topic(), msg.partition(), key.schema(), key.value(),
                value.schema(), value.value(), msg.offset(), ConnectUtils.checkAndConvertTimestamp(msg.timestamp()),
                msg.timestampType(), headers);

        SinkRecord record = run(TRANSFORMATION, () -> transform(original));
        if (record == null) {
            return null;
        }
        RecordHeaders rawHeaders = run(HEADER_CONVERTER, () -> rawHeaders(record));
        byte[] rawKey = run(KEY_CONVERTER,
                () -> keyOut.fromConnectData(record.topic(), rawHeaders, record.keySchema(), record.key()));
        byte[] rawValue = run(VALUE_CONVERTER,
                () -> valueOut.fromConnectData(record.topic(), rawHeaders, record.valueSchema(), record.value()));
        return new Output(record.topic(), record.kafkaPartition(), record.timestamp(), rawKey, rawValue, rawHeaders);
    }

    private Headers connectHeaders(ConsumerRecord<byte[], byte[]> msg) {
        Headers result = new ConnectHeaders();
        for (Header header : msg.headers()) {
            result.add(header.key(), headersIn.toConnectHeader(msg.topic(), header.key(), header.value()));
        }
        return result;
    }

    // TransformationChain.apply over TransformationStage.apply.
    private SinkRecord transform(SinkRecord record) {
        for (Stage stage : stages) {
            if (stage.predicate() == null || stage.negate() ^ stage.predicate().test(record)) {
                record = stage.transformation().apply(record);
                if (record == null) {
                    return null;
                }
            }
        }
        return record;
    }

    private RecordHeaders rawHeaders(SinkRecord record) {
        RecordHeaders result = new RecordHeaders();
        for (org.apache.kafka.connect.header.Header header : record.headers()) {
            result.add(header.key(),
                    headersOut.fromConnectHeader(record.topic(), header.key(), header.schema(), header.value()));
        }
        return result;
    }

    private static final Map<String, io.confluent.kafka.schemaregistry.client.SchemaRegistryClient> MOCK_SCOPES =
            new HashMap<>();

    /** The in-process registry of a `mock://` scope, shared by every converter naming it. */
    static synchronized io.confluent.kafka.schemaregistry.client.SchemaRegistryClient mockScope(String scope) {
        return MOCK_SCOPES.computeIfAbsent(scope,
                s -> new io.confluent.kafka.schemaregistry.client.MockSchemaRegistryClient());
    }

    // Plugins.newConverter: the role's prefixed properties, un-prefixed. Confluent's 7.0.16
    // AvroConverter builds an HTTP client even for a mock:// URL, which that version does not
    // understand; it is handed the scope's mock registry instead.
    private static Converter converter(ConnectorConfig config, String role, boolean isKey) {
        Class<?> klass = config.getClass(role);
        Map<String, Object> props = config.originalsWithPrefix(role + ".");
        Object url = props.get("schema.registry.url");
        Converter converter;
        if (klass.getName().equals("io.confluent.connect.avro.AvroConverter")
                && url != null && url.toString().startsWith("mock://")) {
            converter = new io.confluent.connect.avro.AvroConverter(mockScope(url.toString().substring("mock://".length())));
        } else {
            converter = Utils.newInstance(klass, Converter.class);
        }
        converter.configure(props, isKey);
        return converter;
    }

    // Plugins.newHeaderConverter; without a header.converter the worker's default, configured
    // with the connector's header.converter.* properties as the corpus defines it.
    private static HeaderConverter headerConverter(ConnectorConfig config) {
        String role = ConnectorConfig.HEADER_CONVERTER_CLASS_CONFIG;
        Class<?> klass = config.getClass(role);
        HeaderConverter converter = klass == null ? new SimpleHeaderConverter() : Utils.newInstance(klass, HeaderConverter.class);
        Map<String, Object> props = config.originalsWithPrefix(role + ".");
        props.put(ConverterConfig.TYPE_CONFIG, ConverterType.HEADER.getName());
        converter.configure(props);
        return converter;
    }

    // ConnectorConfig.transformationStages, except that a plugin's configure() failure is kept as
    // thrown instead of being wrapped in a ConnectException (the corpus records the plugin's own).
    @SuppressWarnings("unchecked")
    private static List<Stage> stages(ConnectorConfig config) {
        List<String> aliases = config.getList(ConnectorConfig.TRANSFORMS_CONFIG);
        List<Stage> stages = new ArrayList<>(aliases.size());
        for (String alias : aliases) {
            String prefix = ConnectorConfig.TRANSFORMS_CONFIG + "." + alias + ".";
            Transformation<SinkRecord> transformation = Utils.newInstance(config.getClass(prefix + "type"), Transformation.class);
            Map<String, Object> props = config.originalsWithPrefix(prefix);
            Object predicateAlias = props.remove(PREDICATE);
            Object negate = props.remove(NEGATE);
            transformation.configure(props);
            Predicate<SinkRecord> predicate = null;
            if (predicateAlias != null) {
                String predicatePrefix = ConnectorConfig.PREDICATES_PREFIX + predicateAlias + ".";
                predicate = Utils.newInstance(config.getClass(predicatePrefix + "type"), Predicate.class);
                predicate.configure(config.originalsWithPrefix(predicatePrefix));
            }
            stages.add(new Stage(transformation, predicate, negate != null && Boolean.parseBoolean(negate.toString())));
        }
        return stages;
    }

    private static boolean named(ConnectorConfig config, String role) {
        return config.originals().containsKey(role);
    }

    private static <T> T run(String stage, StageCall<T> call) throws StageFailure {
        try {
            return call.call();
        } catch (Exception e) {
            throw new StageFailure(stage, e);
        }
    }

    private static ConfigDef keysOf(ConfigDef def, String... names) {
        ConfigDef subset = new ConfigDef();
        for (String name : names) {
            subset.define(def.configKeys().get(name));
        }
        return subset;
    }
}
