package org.mmumesh.workload;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Parses the command-line workload syntax {@code kind:key=value,key=value,...} into a {@link
 * WorkloadSpec}. See {@link #help()} for every kind, key, default and range. Examples:
 *
 * <pre>
 * identical:vms=4,vcpus=1,pages=4096,image-distinct=0.3,ws=2048,read=0.95,locality=zipf,zipf-s=0.9,accesses=200000,seed=42
 * uniform:vms=2,pages=1024,read=0.8,accesses=100000,seed=7
 * lackey:path=/tmp/trace.txt,pages=4096
 * image:path=/some/dir,vms=3,ws=1024,read=0.99
 * </pre>
 *
 * <p>Values cannot contain {@code ,} (paths included). Integers are decimal; fractions are decimal
 * numbers. Every error is an {@link IllegalArgumentException} naming the key and its allowed range
 * or values. Files named by {@code path} are read during {@code parse}, so their errors surface
 * here too. The returned spec's {@code name} is the canonical string with every default filled in;
 * parsing it again gives the same workload.
 */
public final class WorkloadParser {
  private WorkloadParser() {}

  /** Default seed. */
  public static final long DEFAULT_SEED = 1;

  /** Default guest memory in pages (16 MiB). */
  public static final long DEFAULT_PAGES = 4096;

  /** Default accesses per vCPU. */
  public static final long DEFAULT_ACCESSES = 100_000;

  private static final List<String> KINDS = List.of("identical", "uniform", "lackey", "image");
  private static final List<String> COMMON = List.of("vms", "vcpus", "pages", "mmu", "seed");
  private static final List<String> PHASE =
      List.of("ws", "read", "locality", "zipf-s", "accesses", "ifetch");

  /** The help text: syntax, kinds, keys, defaults, ranges. */
  public static String help() {
    return """
        Workload syntax: KIND[:KEY=VALUE[,KEY=VALUE...]]   (values may not contain ',')

        Kinds:
          identical  N identical guests booted from one synthetic image, then a read-mostly phase
          image      like identical, but the image is loaded from a file or directory (path=)
          uniform    uniform random loads/stores over all of zeroed guest memory
          lackey     every vCPU replays a Valgrind Lackey trace (path=), folded into the EA window

        Keys for every kind:
          vms=N            VMs, 1 to 65536                      (default 2 for identical/image, else 1)
          vcpus=N          vCPUs per VM, 1 to 1024              (default 1)
          pages=N          guest memory per VM in 4 KiB pages,  (default 4096; image: the image size)
                           1 to 983040 (mmu=32) or 68719476736 (mmu=64)
          mmu=32|64        guest MMU: Book3S 32-bit or 64-bit   (default 64)
          seed=N           run seed, any 64-bit integer          (default 1)

        Keys for identical, image (read-mostly phase) and uniform (read, accesses, ifetch only):
          read=F           loads among data accesses, 0 to 1    (default 0.95; uniform 0.8)
          accesses=N       accesses per vCPU, 0 to 2^40          (default 100000)
          ifetch=F         instruction fetches among accesses, 0 to 1 (default 0)
          ws=N             working set, window pages 0..N-1, 1 to pages (default pages)
          locality=L       uniform or zipf                       (default zipf)
          zipf-s=F         Zipf exponent, >0 to 10               (default 0.9)

        identical only:
          image-distinct=F share of unique pages in the synthetic image, 0 to 1 (default 0.3);
                           the rest are zero pages or repeats of 16 shared contents
        image, lackey:
          path=P           image file or directory (files in sorted path order, 4 KiB pages;
                           inside a directory symbolic links are skipped, never followed, so
                           the image never leaves it; FIFOs and devices are skipped too);
                           Lackey trace file (valgrind --tool=lackey --trace-mem=yes), plain
                           or gzip/zstd compressed (told by content, not name); 'SB' lines
                           (--trace-superblocks=yes) and '==' messages are skipped
        lackey only:
          allow-empty=B    true: run a trace with no accesses; false: that is an error
                           (default false)

        Effective addresses: the guest linear map at 0x10000000; EA page p is gfn p.
        Lackey traces are folded by first-touch page renumbering into pages 0..pages-1.
        They are streamed, read once to check them and again by each vCPU: memory grows with
        the distinct pages a trace touches (at most pages=), not with its length.
        """;
  }

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException naming the key and its allowed range or values
   */
  public static WorkloadSpec parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException(
          "workload: '' is empty; expected KIND[:KEY=VALUE,...] with KIND one of " + KINDS);
    }
    String s = text.strip();
    int colon = s.indexOf(':');
    String kind = (colon < 0 ? s : s.substring(0, colon)).toLowerCase(Locale.ROOT);
    Map<String, String> kv = keyValues(colon < 0 ? "" : s.substring(colon + 1));
    return switch (kind) {
      case "identical" -> identical(new Args(kind, kv, allowed(true, "image-distinct")));
      case "image" -> image(new Args(kind, kv, allowed(true, "path")));
      case "uniform" -> uniform(new Args(kind, kv, allowed(false, "read", "accesses", "ifetch")));
      case "lackey" -> lackey(new Args(kind, kv, allowed(false, "path", "allow-empty")));
      default ->
          throw new IllegalArgumentException(
              "workload: '" + kind + "' is an unknown kind; allowed " + String.join(", ", KINDS));
    };
  }

  private static List<String> allowed(boolean phase, String... extra) {
    List<String> keys = new java.util.ArrayList<>(COMMON);
    if (phase) {
      keys.addAll(PHASE);
    }
    keys.addAll(List.of(extra));
    return keys;
  }

  private static Map<String, String> keyValues(String body) {
    Map<String, String> kv = new LinkedHashMap<>();
    if (body.isBlank()) {
      return kv;
    }
    for (String item : body.split(",", -1)) {
      String it = item.strip();
      int eq = it.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(
            "workload: '" + it + "' is not KEY=VALUE; expected KEY=VALUE items separated by ','");
      }
      String key = it.substring(0, eq).strip().toLowerCase(Locale.ROOT);
      String value = it.substring(eq + 1).strip();
      if (value.isEmpty()) {
        throw new IllegalArgumentException(key + ": the value is empty; expected KEY=VALUE");
      }
      if (kv.put(key, value) != null) {
        throw new IllegalArgumentException(key + ": given more than once; allowed once");
      }
    }
    return kv;
  }

  private static WorkloadSpec identical(Args a) {
    MmuKind mmu = a.mmu();
    long pages = a.pages(mmu, DEFAULT_PAGES);
    int vms = a.vms(2);
    int vcpus = a.vcpus();
    long seed = a.seed();
    double distinct = a.fraction("image-distinct", 0.3);
    ReadMostlyPhase phase = a.phase(pages, 0.95);
    if (pages > GuestImage.MAX_PAGES) {
      throw new IllegalArgumentException(
          "pages: "
              + pages
              + " is out of range for a synthetic image; allowed 1 to "
              + GuestImage.MAX_PAGES);
    }
    GuestImage image = GuestImage.synthetic(pages, distinct, seed);
    String name =
        a.kind
            + ":"
            + common(vms, vcpus, pages, mmu, seed)
            + ",image-distinct="
            + distinct
            + phaseText(phase);
    return Workloads.identicalGuests(name, vms, vcpus, pages, mmu, image, phase, seed);
  }

  private static WorkloadSpec image(Args a) {
    MmuKind mmu = a.mmu();
    Path path = Path.of(a.required("path"));
    long pagesGiven = a.has("pages") ? a.pages(mmu, DEFAULT_PAGES) : -1;
    long limit = pagesGiven > 0 ? pagesGiven : Math.min(mmu.maxGuestPages(), GuestImage.MAX_PAGES);
    GuestImage image = ImageLoader.load(path, limit);
    long pages = pagesGiven > 0 ? pagesGiven : image.pages();
    int vms = a.vms(2);
    int vcpus = a.vcpus();
    long seed = a.seed();
    ReadMostlyPhase phase = a.phase(pages, 0.95);
    String name =
        a.kind + ":path=" + path + "," + common(vms, vcpus, pages, mmu, seed) + phaseText(phase);
    return Workloads.identicalGuests(name, vms, vcpus, pages, mmu, image, phase, seed);
  }

  private static WorkloadSpec uniform(Args a) {
    MmuKind mmu = a.mmu();
    long pages = a.pages(mmu, DEFAULT_PAGES);
    int vms = a.vms(1);
    int vcpus = a.vcpus();
    long seed = a.seed();
    double read = a.fraction("read", 0.8);
    long accesses = a.integer("accesses", DEFAULT_ACCESSES, 0, ReadMostlyPhase.MAX_ACCESSES);
    double ifetch = a.fraction("ifetch", 0.0);
    ReadMostlyPhase phase =
        new ReadMostlyPhase(read, pages, Locality.UNIFORM, 0.0, accesses, ifetch);
    String name =
        a.kind
            + ":"
            + common(vms, vcpus, pages, mmu, seed)
            + ",read="
            + read
            + ",accesses="
            + accesses
            + ",ifetch="
            + ifetch;
    return Workloads.randomPhase(name, vms, vcpus, pages, mmu, Optional.empty(), phase, seed);
  }

  private static WorkloadSpec lackey(Args a) {
    MmuKind mmu = a.mmu();
    Path path = Path.of(a.required("path"));
    long pages = a.pages(mmu, DEFAULT_PAGES);
    int vms = a.vms(1);
    int vcpus = a.vcpus();
    long seed = a.seed();
    if (pages > GuestImage.MAX_PAGES) {
      throw new IllegalArgumentException(
          "pages: "
              + pages
              + " is out of range for a trace window; allowed 1 to "
              + GuestImage.MAX_PAGES);
    }
    boolean allowEmpty = a.bool("allow-empty", false);
    StreamedTrace trace = StreamedTrace.scan(path, AddressFolding.forGuest(mmu, pages), allowEmpty);
    String name =
        a.kind
            + ":path="
            + path
            + ","
            + common(vms, vcpus, pages, mmu, seed)
            + (allowEmpty ? ",allow-empty=true" : "");
    return Workloads.traceReplay(name, vms, vcpus, pages, mmu, trace, seed);
  }

  private static String common(int vms, int vcpus, long pages, MmuKind mmu, long seed) {
    return "vms="
        + vms
        + ",vcpus="
        + vcpus
        + ",pages="
        + pages
        + ",mmu="
        + mmu.cliName()
        + ",seed="
        + seed;
  }

  private static String phaseText(ReadMostlyPhase p) {
    return ",ws="
        + p.workingSetPages()
        + ",read="
        + p.readFraction()
        + ",locality="
        + p.locality().cliName()
        + ",zipf-s="
        + p.zipfExponent()
        + ",accesses="
        + p.accessesPerVcpu()
        + ",ifetch="
        + p.ifetchFraction();
  }

  /** The key/value pairs of one workload, checked against the keys its kind allows. */
  private static final class Args {
    final String kind;
    final Map<String, String> kv;

    Args(String kind, Map<String, String> kv, List<String> allowed) {
      this.kind = kind;
      this.kv = kv;
      for (String key : kv.keySet()) {
        if (!allowed.contains(key)) {
          throw new IllegalArgumentException(
              key
                  + ": unknown key for workload '"
                  + kind
                  + "'; allowed keys "
                  + String.join(", ", allowed));
        }
      }
    }

    boolean has(String key) {
      return kv.containsKey(key);
    }

    String required(String key) {
      String v = kv.get(key);
      if (v == null) {
        throw new IllegalArgumentException(
            key
                + ": missing; workload '"
                + kind
                + "' requires "
                + key
                + ("lackey".equals(kind) ? "=<trace file>" : "=<file or directory>"));
      }
      return v;
    }

    MmuKind mmu() {
      return MmuKind.fromCli(kv.getOrDefault("mmu", "64"));
    }

    long pages(MmuKind mmu, long dflt) {
      return integer("pages", dflt, 1, mmu.maxGuestPages());
    }

    int vms(int dflt) {
      return (int) integer("vms", dflt, 1, WorkloadSpec.MAX_VMS);
    }

    int vcpus() {
      return (int) integer("vcpus", 1, 1, WorkloadSpec.MAX_VCPUS);
    }

    long seed() {
      return integer("seed", DEFAULT_SEED, Long.MIN_VALUE, Long.MAX_VALUE);
    }

    ReadMostlyPhase phase(long pages, double defaultRead) {
      double read = fraction("read", defaultRead);
      long ws = integer("ws", pages, 1, pages);
      Locality locality;
      try {
        locality = Locality.fromCli(kv.getOrDefault("locality", "zipf").toLowerCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "locality: '" + kv.get("locality") + "' is invalid; allowed uniform or zipf", e);
      }
      double s = number("zipf-s", 0.9);
      if (!(s > 0.0 && s <= ZipfSampler.MAX_EXPONENT)) {
        throw new IllegalArgumentException(
            "zipf-s: "
                + kv.get("zipf-s")
                + " is out of range; allowed greater than 0 to "
                + ZipfSampler.MAX_EXPONENT);
      }
      long accesses = integer("accesses", DEFAULT_ACCESSES, 0, ReadMostlyPhase.MAX_ACCESSES);
      double ifetch = fraction("ifetch", 0.0);
      return new ReadMostlyPhase(read, ws, locality, s, accesses, ifetch);
    }

    long integer(String key, long dflt, long min, long max) {
      String v = kv.get(key);
      if (v == null) {
        return dflt;
      }
      long x;
      try {
        x = Long.parseLong(v);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            key + ": '" + v + "' is not a decimal integer; allowed " + min + " to " + max, e);
      }
      if (x < min || x > max) {
        throw new IllegalArgumentException(
            key + ": " + x + " is out of range; allowed " + min + " to " + max);
      }
      return x;
    }

    boolean bool(String key, boolean dflt) {
      String v = kv.get(key);
      if (v == null) {
        return dflt;
      }
      return switch (v.toLowerCase(Locale.ROOT)) {
        case "true" -> true;
        case "false" -> false;
        default ->
            throw new IllegalArgumentException(
                key + ": '" + v + "' is invalid; allowed true or false");
      };
    }

    double fraction(String key, double dflt) {
      double x = number(key, dflt);
      if (!(x >= 0.0 && x <= 1.0)) {
        throw new IllegalArgumentException(
            key + ": " + kv.get(key) + " is out of range; allowed 0 to 1");
      }
      return x;
    }

    double number(String key, double dflt) {
      String v = kv.get(key);
      if (v == null) {
        return dflt;
      }
      double x;
      try {
        x = Double.parseDouble(v);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(key + ": '" + v + "' is not a number", e);
      }
      if (!Double.isFinite(x)) {
        throw new IllegalArgumentException(key + ": '" + v + "' is not a finite number");
      }
      return x;
    }
  }
}
