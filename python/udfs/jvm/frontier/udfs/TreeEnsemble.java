package frontier.udfs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.hadoop.hive.ql.exec.Description;
import org.apache.hadoop.hive.ql.exec.UDFArgumentException;
import org.apache.hadoop.hive.ql.exec.UDFArgumentTypeException;
import org.apache.hadoop.hive.ql.metadata.HiveException;
import org.apache.hadoop.hive.ql.udf.generic.GenericUDF;
import org.apache.hadoop.hive.serde2.io.DoubleWritable;
import org.apache.hadoop.hive.serde2.objectinspector.ConstantObjectInspector;
import org.apache.hadoop.hive.serde2.objectinspector.ObjectInspector;
import org.apache.hadoop.hive.serde2.objectinspector.PrimitiveObjectInspector;
import org.apache.hadoop.hive.serde2.objectinspector.primitive.PrimitiveObjectInspectorFactory;
import org.apache.hadoop.hive.serde2.objectinspector.primitive.PrimitiveObjectInspectorUtils;

/**
 * Scores one row with a tree ensemble given as a constant text: {@code tree_ensemble(model, x1, …,
 * xn)}. The predict functions of {@code python/udfs/functions.py} wrap it, with the model text that
 * {@code python/udfs/compiler.py} writes, so their SQL body stays a few kilobytes and a query that
 * calls one plans in milliseconds; the trees are parsed once per model text and JVM.
 *
 * <p>Model text, whitespace separated: {@code frontier-trees 1 <rf|gbt> <classifier 0|1>
 * <features> <trees>}, then per tree its nodes in pre-order: {@code L <value>} a leaf (already
 * multiplied by the tree weight), {@code C <feature> <threshold>} a continuous split (left when
 * {@code x <= threshold}), {@code K <feature> <k> <c1> … <ck>} a categorical split (left when the
 * category index is one of the c). A NULL or NaN argument fails every test and goes right, as
 * MLlib routes the NaN of {@code VectorAssembler(handleInvalid="keep")}.
 */
@Description(
    name = "tree_ensemble",
    value = "_FUNC_(model, x1, ..., xn) - a tree ensemble's class-1 probability or prediction")
public final class TreeEnsemble extends GenericUDF {

  private static final ConcurrentHashMap<String, Model> MODELS = new ConcurrentHashMap<>();

  private transient Model model;
  private transient PrimitiveObjectInspector[] inputs;
  private transient double[] row;
  private final transient DoubleWritable result = new DoubleWritable();

  @Override
  public ObjectInspector initialize(ObjectInspector[] arguments) throws UDFArgumentException {
    if (arguments.length < 1 || !(arguments[0] instanceof ConstantObjectInspector)) {
      throw new UDFArgumentException(
          "tree_ensemble(model, x1, ..., xn): the model must be a constant string");
    }
    Object text = ((ConstantObjectInspector) arguments[0]).getWritableConstantValue();
    if (text == null) {
      throw new UDFArgumentException("tree_ensemble: the model text is NULL");
    }
    try {
      model = MODELS.computeIfAbsent(text.toString(), Model::parse);
    } catch (IllegalArgumentException e) {
      throw new UDFArgumentException("tree_ensemble: " + e.getMessage());
    }
    if (arguments.length - 1 != model.features) {
      throw new UDFArgumentException(
          "tree_ensemble: the model has " + model.features + " features, "
              + (arguments.length - 1) + " given");
    }
    inputs = new PrimitiveObjectInspector[model.features];
    for (int i = 0; i < model.features; i++) {
      ObjectInspector oi = arguments[i + 1];
      if (!(oi instanceof PrimitiveObjectInspector)
          || !PrimitiveObjectInspectorUtils.PrimitiveGrouping.NUMERIC_GROUP.equals(
              PrimitiveObjectInspectorUtils.getPrimitiveGrouping(
                  ((PrimitiveObjectInspector) oi).getPrimitiveCategory()))) {
        throw new UDFArgumentTypeException(
            i + 1, "tree_ensemble: argument " + (i + 1) + " must be a number, not "
                + oi.getTypeName());
      }
      inputs[i] = (PrimitiveObjectInspector) oi;
    }
    row = new double[model.features];
    return PrimitiveObjectInspectorFactory.writableDoubleObjectInspector;
  }

  @Override
  public Object evaluate(DeferredObject[] arguments) throws HiveException {
    for (int i = 0; i < row.length; i++) {
      Object value = arguments[i + 1].get();
      row[i] = value == null ? Double.NaN : PrimitiveObjectInspectorUtils.getDouble(value, inputs[i]);
    }
    result.set(model.predict(row));
    return result;
  }

  @Override
  public String getDisplayString(String[] children) {
    return "tree_ensemble(<model>, " + String.join(", ", Arrays.copyOfRange(children, 1, children.length)) + ")";
  }

  /** All trees' nodes in flat arrays; a node's left child is the next node (pre-order). */
  static final class Model {
    final boolean randomForest;
    final boolean classifier;
    final int features;
    final int[] roots;
    final int[] feature; // -1 at a leaf
    final double[] threshold; // split threshold, or the leaf value
    final long[][] leftCategories; // bit c set: category c goes left; null for a continuous split
    final int[] right;

    private Model(boolean rf, boolean classifier, int features, int[] roots, List<Node> nodes) {
      this.randomForest = rf;
      this.classifier = classifier;
      this.features = features;
      this.roots = roots;
      int n = nodes.size();
      feature = new int[n];
      threshold = new double[n];
      leftCategories = new long[n][];
      right = new int[n];
      for (int i = 0; i < n; i++) {
        Node node = nodes.get(i);
        feature[i] = node.feature;
        threshold[i] = node.threshold;
        leftCategories[i] = node.categories;
        right[i] = node.right;
      }
    }

    double predict(double[] x) {
      double sum = 0.0;
      for (int root : roots) {
        int i = root;
        while (feature[i] >= 0) {
          double v = x[feature[i]];
          long[] left = leftCategories[i];
          boolean goesLeft = left == null ? v <= threshold[i] : contains(left, v);
          i = goesLeft ? i + 1 : right[i];
        }
        sum += threshold[i];
      }
      if (randomForest) {
        return sum / roots.length;
      }
      return classifier ? 1.0 / (1.0 + StrictMath.exp(-2.0 * sum)) : sum;
    }

    /**
     * Whether category {@code v} is in the set: a bit test, where a scan of the category list
     * was a third of the risk dashboard query's CPU. NaN, negative and fractional values are in
     * no set.
     */
    private static boolean contains(long[] bits, double v) {
      if (!(v >= 0) || v >= bits.length * 64.0 || v != Math.rint(v)) {
        return false;
      }
      int c = (int) v;
      return (bits[c >>> 6] & (1L << c)) != 0;
    }

    static Model parse(String text) {
      Parser p = new Parser(text.trim().split("\\s+"));
      if (!"frontier-trees".equals(p.next()) || !"1".equals(p.next())) {
        throw new IllegalArgumentException("not a frontier-trees version 1 model text");
      }
      String algorithm = p.next();
      if (!algorithm.equals("rf") && !algorithm.equals("gbt")) {
        throw new IllegalArgumentException("unknown algorithm " + algorithm);
      }
      boolean classifier = p.nextInt() == 1;
      int features = p.nextInt();
      int trees = p.nextInt();
      if (trees < 1) {
        throw new IllegalArgumentException("a model needs at least one tree");
      }
      List<Node> nodes = new ArrayList<>();
      int[] roots = new int[trees];
      for (int t = 0; t < trees; t++) {
        roots[t] = nodes.size();
        p.subtree(nodes, features);
      }
      if (p.hasNext()) {
        throw new IllegalArgumentException("unexpected text after the last tree");
      }
      return new Model(algorithm.equals("rf"), classifier, features, roots, nodes);
    }
  }

  private static final class Node {
    int feature = -1;
    double threshold;
    long[] categories;
    int right;
  }

  private static final class Parser {
    private final String[] tokens;
    private int at;

    Parser(String[] tokens) {
      this.tokens = tokens;
    }

    boolean hasNext() {
      return at < tokens.length;
    }

    String next() {
      if (at >= tokens.length) {
        throw new IllegalArgumentException("model text ends too early");
      }
      return tokens[at++];
    }

    int nextInt() {
      return Integer.parseInt(next());
    }

    double nextDouble() {
      return Double.parseDouble(next());
    }

    /** The next k categories as a bit set; a category is an indexer position, 0 to 65535. */
    long[] categorySet(int k) {
      double[] categories = new double[k];
      double max = 0;
      for (int i = 0; i < k; i++) {
        double c = nextDouble();
        if (!(c >= 0 && c <= 65535 && c == Math.rint(c))) {
          throw new IllegalArgumentException("category " + c + " is not an index 0-65535");
        }
        categories[i] = c;
        max = Math.max(max, c);
      }
      long[] bits = new long[(int) max / 64 + 1];
      for (double c : categories) {
        bits[(int) c >>> 6] |= 1L << (int) c;
      }
      return bits;
    }

    /** Appends one subtree in pre-order. */
    void subtree(List<Node> nodes, int features) {
      Node node = new Node();
      nodes.add(node);
      String kind = next();
      switch (kind) {
        case "L":
          node.threshold = nextDouble();
          return;
        case "C":
          node.feature = nextInt();
          node.threshold = nextDouble();
          break;
        case "K":
          node.feature = nextInt();
          node.categories = categorySet(nextInt());
          break;
        default:
          throw new IllegalArgumentException("unknown node kind " + kind);
      }
      if (node.feature < 0 || node.feature >= features) {
        throw new IllegalArgumentException("split on feature " + node.feature + " of " + features);
      }
      subtree(nodes, features); // left child: the next node
      node.right = nodes.size();
      subtree(nodes, features);
    }
  }
}
