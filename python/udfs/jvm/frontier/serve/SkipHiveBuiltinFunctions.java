package frontier.serve;

import java.lang.reflect.Field;
import java.util.Collections;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.spark.SparkContext;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A driver plugin of the Thrift server ({@code frontier serve}): it marks Hive's built-in function
 * registration as done before the server takes its first connection, so closing a session never
 * tries to build Hive's function registry, which cannot load from the jars pyspark 4 ships.
 *
 * <p>Why: when a client closes its session, Hive's {@code SessionState.close} asks for the thread's
 * {@code Hive} object. Spark's session close prepares one without function registration first,
 * yet when several sessions close at once (as dbt's threads do) the thread dumps showed
 * {@code SessionState.close} building a new one ({@code Hive.get} finding the thread's object
 * unusable for the session's settings), and a new {@code Hive} first registers every function: its
 * {@code FunctionRegistry} loads Hive's built-in UDTF {@code get_splits}, whose class needs
 * {@code hive-llap-common}, a jar Spark 4 no longer ships (SPARK-51029). The
 * {@code NoClassDefFoundError} kills that handler thread (the client reads "TSocket read 0 bytes"),
 * and since an Error escapes Hive's {@code catch (Exception)} the registration state stays
 * "pending": every later session close that needs a new {@code Hive} waits for it forever.
 *
 * <p>Nothing in the server needs that registry: Spark resolves functions, the predict functions'
 * Hive UDF included, through its own catalog, and the registry could not load here anyway. The
 * state is Hive 2.3's private {@code Hive.didRegisterAllFuncs}; when a Hive version without it
 * is on the class path, the plugin logs a warning and changes nothing.
 */
public final class SkipHiveBuiltinFunctions implements SparkPlugin {

  private static final Logger LOG = LoggerFactory.getLogger(SkipHiveBuiltinFunctions.class);

  /** {@code Hive.REG_FUNCS_DONE} in Hive 2.3.10. */
  private static final int REGISTERED = 2;

  @Override
  public DriverPlugin driverPlugin() {
    return new DriverPlugin() {
      @Override
      public Map<String, String> init(SparkContext context, PluginContext plugin) {
        markRegistered();
        return Collections.emptyMap();
      }
    };
  }

  @Override
  public ExecutorPlugin executorPlugin() {
    return null;
  }

  static void markRegistered() {
    try {
      Class<?> hive = Class.forName("org.apache.hadoop.hive.ql.metadata.Hive");
      Field field = hive.getDeclaredField("didRegisterAllFuncs");
      field.setAccessible(true);
      ((AtomicInteger) field.get(null)).set(REGISTERED);
      LOG.info("Hive built-in function registration marked done: session close will not load it");
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("Hive built-in function registration left as it is ({}): closing sessions may "
          + "fail if hive-llap-common is missing", e.toString());
    }
  }
}
