package org.mmumesh.bench;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.InaccessibleObjectException;
import java.lang.reflect.Modifier;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A small reflective deep-size estimator (JOL-like, without an agent) that attributes every
 * reachable object to the field path it was first reached by, so a retained heap can be broken down
 * by structure ({@code frames.frames.fingerprint}, {@code vms[].host.htab.word0}, ...).
 *
 * <p><b>Model.</b> 64-bit HotSpot with compressed oops and class pointers (heaps under 32 GiB):
 * object header 12 bytes, array header 16 bytes, references 4 bytes, every object rounded up to 8
 * bytes. Instance field layout is estimated as the sum of the field sizes (HotSpot packs fields, so
 * this is exact or a few bytes low per object). Array elements collapse to {@code []} in the path;
 * paths are cut at {@code maxDepth} field hops, deeper objects count toward their ancestor at that
 * depth. The walk is depth-first in field declaration order; objects reached twice count once, at
 * the first path. JDK objects whose fields are not accessible (no {@code --add-opens}) count their
 * shallow size, and collections, maps and optionals among them are walked through their public API
 * (so their internal nodes are missed: a few dozen bytes per element, only in small JDK collections
 * here). Class objects are not walked. Not thread-safe; the heap must not change during a walk.
 */
final class HeapSizer {
  private static final int HEADER = 12;
  private static final int ARRAY_HEADER = 16;
  private static final int REF = 4;

  private final Set<Object> seen = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
  private final Map<String, long[]> byPath = new TreeMap<>();
  private final Map<Class<?>, List<Field>> fieldCache = new IdentityHashMap<>();
  private final int maxDepth;

  HeapSizer(int maxDepth) {
    this.maxDepth = maxDepth;
  }

  /** Marks objects so walks stop at them (e.g. the root, reached back through a lambda). */
  void exclude(Object o) {
    seen.add(o);
  }

  /** Bytes and objects attributed to each path so far ({@code long[]{bytes, objects}}). */
  Map<String, long[]> byPath() {
    return byPath;
  }

  /** Walks {@code root} under {@code path}; returns the bytes newly attributed. */
  long walk(String path, Object root) {
    long total = 0;
    Deque<Object[]> stack = new ArrayDeque<>();
    stack.push(new Object[] {root, path, 0});
    while (!stack.isEmpty()) {
      Object[] top = stack.pop();
      Object o = top[0];
      String p = (String) top[1];
      int depth = (Integer) top[2];
      if (o == null || o instanceof Class<?> || !seen.add(o)) {
        continue;
      }
      long size = shallow(o);
      total += size;
      long[] acc = byPath.computeIfAbsent(p, k -> new long[2]);
      acc[0] += size;
      acc[1]++;
      List<Object[]> children = new ArrayList<>();
      Class<?> c = o.getClass();
      if (c.isArray()) {
        if (!c.getComponentType().isPrimitive()) {
          Object[] arr = (Object[]) o;
          String cp = depth < maxDepth ? p + "[]" : p;
          for (Object e : arr) {
            if (e != null) {
              children.add(new Object[] {e, cp, depth});
            }
          }
        }
      } else {
        List<Field> fs = fields(c);
        if (fs == null) {
          walkOpaque(o, p, depth, children);
        } else {
          for (Field f : fs) {
            if (f.getType().isPrimitive()) {
              continue;
            }
            Object v;
            try {
              v = f.get(o);
            } catch (IllegalAccessException e) {
              continue;
            }
            if (v != null) {
              String cp = depth < maxDepth ? p + "." + f.getName() : p;
              children.add(new Object[] {v, cp, Math.min(depth + 1, maxDepth)});
            }
          }
        }
      }
      for (int i = children.size() - 1; i >= 0; i--) {
        stack.push(children.get(i));
      }
    }
    return total;
  }

  private static void walkOpaque(Object o, String p, int depth, List<Object[]> children) {
    if (o instanceof Collection<?> col) {
      for (Object e : col) {
        children.add(new Object[] {e, p, depth});
      }
    } else if (o instanceof java.util.Optional<?> opt) {
      opt.ifPresent(v -> children.add(new Object[] {v, p, depth}));
    } else if (o instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        children.add(new Object[] {e.getKey(), p, depth});
        children.add(new Object[] {e.getValue(), p, depth});
      }
    }
  }

  /** The instance fields of {@code c} and its superclasses, or null when not accessible. */
  private List<Field> fields(Class<?> c) {
    if (fieldCache.containsKey(c)) {
      return fieldCache.get(c);
    }
    List<Field> out = new ArrayList<>();
    try {
      for (Class<?> k = c; k != null; k = k.getSuperclass()) {
        for (Field f : k.getDeclaredFields()) {
          if (!Modifier.isStatic(f.getModifiers())) {
            f.setAccessible(true);
            out.add(f);
          }
        }
      }
    } catch (InaccessibleObjectException | SecurityException e) {
      out = null;
    }
    fieldCache.put(c, out);
    return out;
  }

  /** The estimated shallow size of {@code o}. */
  long shallow(Object o) {
    Class<?> c = o.getClass();
    if (c.isArray()) {
      int n = Array.getLength(o);
      Class<?> t = c.getComponentType();
      return align(ARRAY_HEADER + (long) n * (t.isPrimitive() ? primitiveBytes(t) : REF));
    }
    long s = HEADER;
    for (Class<?> k = c; k != null; k = k.getSuperclass()) {
      for (Field f : k.getDeclaredFields()) {
        if (!Modifier.isStatic(f.getModifiers())) {
          s += f.getType().isPrimitive() ? primitiveBytes(f.getType()) : REF;
        }
      }
    }
    return align(s);
  }

  private static int primitiveBytes(Class<?> t) {
    if (t == long.class || t == double.class) {
      return 8;
    }
    if (t == int.class || t == float.class) {
      return 4;
    }
    if (t == short.class || t == char.class) {
      return 2;
    }
    return 1;
  }

  private static long align(long s) {
    return (s + 7) & ~7L;
  }
}
