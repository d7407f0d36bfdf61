package org.mmumesh.gateway;

import java.util.EnumSet;
import java.util.Set;
import org.mmumesh.common.Access;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.common.Quirk;
import org.mmumesh.proto.v1.AccessKind;
import org.mmumesh.proto.v1.MmuKind;

/**
 * Proto enums and messages to the simulation's values and back. Every {@code _UNSPECIFIED} or
 * unknown (newer client) value is a bad field naming the field and the allowed values.
 */
public final class ProtoMapping {
  private ProtoMapping() {}

  /** The policy of enum number {@code number}; UNSPECIFIED and unknown numbers are refused. */
  public static Policy policy(String field, int number) {
    var p = org.mmumesh.proto.v1.Policy.forNumber(number);
    return switch (p == null ? org.mmumesh.proto.v1.Policy.UNRECOGNIZED : p) {
      case POLICY_LEGACY -> Policy.LEGACY;
      case POLICY_FIXED -> Policy.FIXED;
      case POLICY_STRICT -> Policy.STRICT;
      default ->
          throw GatewayException.badField(
              field,
              Fields.enumValue(org.mmumesh.proto.v1.Policy::forNumber, number)
                  + " is not allowed; use POLICY_LEGACY, POLICY_FIXED or POLICY_STRICT");
    };
  }

  /** The proto value of {@code p}. */
  public static org.mmumesh.proto.v1.Policy toProto(Policy p) {
    return switch (p) {
      case LEGACY -> org.mmumesh.proto.v1.Policy.POLICY_LEGACY;
      case FIXED -> org.mmumesh.proto.v1.Policy.POLICY_FIXED;
      case STRICT -> org.mmumesh.proto.v1.Policy.POLICY_STRICT;
    };
  }

  /** The quirk of enum number {@code number}; UNSPECIFIED and unknown numbers are refused. */
  public static Quirk quirk(String field, int number) {
    var q = org.mmumesh.proto.v1.Quirk.forNumber(number);
    return switch (q == null ? org.mmumesh.proto.v1.Quirk.UNRECOGNIZED : q) {
      case QUIRK_Q1_RC_LOST -> Quirk.Q1_RC_LOST;
      case QUIRK_Q2_SECONDARY_HIDES_EPERM -> Quirk.Q2_SECONDARY_HIDES_EPERM;
      case QUIRK_Q3_BAT_PP3_WRITABLE -> Quirk.Q3_BAT_PP3_WRITABLE;
      case QUIRK_Q4_C_CAN_BE_MISSED -> Quirk.Q4_C_CAN_BE_MISSED;
      case QUIRK_Q5_HOST32_INSERTION -> Quirk.Q5_HOST32_INSERTION;
      case QUIRK_Q7_MAP_FAILURE_LOOPS -> Quirk.Q7_MAP_FAILURE_LOOPS;
      case QUIRK_Q8_NOTIFIER_FULL_FLUSH -> Quirk.Q8_NOTIFIER_FULL_FLUSH;
      default ->
          throw GatewayException.badField(
              field,
              Fields.enumValue(org.mmumesh.proto.v1.Quirk::forNumber, number)
                  + " is not allowed; use one of QUIRK_Q1 .. QUIRK_Q8 (no Q6)");
    };
  }

  /** The proto value of {@code q}. */
  public static org.mmumesh.proto.v1.Quirk toProto(Quirk q) {
    return switch (q) {
      case Q1_RC_LOST -> org.mmumesh.proto.v1.Quirk.QUIRK_Q1_RC_LOST;
      case Q2_SECONDARY_HIDES_EPERM -> org.mmumesh.proto.v1.Quirk.QUIRK_Q2_SECONDARY_HIDES_EPERM;
      case Q3_BAT_PP3_WRITABLE -> org.mmumesh.proto.v1.Quirk.QUIRK_Q3_BAT_PP3_WRITABLE;
      case Q4_C_CAN_BE_MISSED -> org.mmumesh.proto.v1.Quirk.QUIRK_Q4_C_CAN_BE_MISSED;
      case Q5_HOST32_INSERTION -> org.mmumesh.proto.v1.Quirk.QUIRK_Q5_HOST32_INSERTION;
      case Q7_MAP_FAILURE_LOOPS -> org.mmumesh.proto.v1.Quirk.QUIRK_Q7_MAP_FAILURE_LOOPS;
      case Q8_NOTIFIER_FULL_FLUSH -> org.mmumesh.proto.v1.Quirk.QUIRK_Q8_NOTIFIER_FULL_FLUSH;
    };
  }

  /** The options of {@code o} (field prefix {@code field}); the policy is required. */
  public static MmuOptions options(
      String field, boolean present, org.mmumesh.proto.v1.MmuOptions o) {
    if (!present) {
      throw GatewayException.badField(field, "is required (at least its policy)");
    }
    Policy p = policy(field + ".policy", o.getPolicyValue());
    if (o.getUsePolicyDefaults()) {
      return MmuOptions.defaults(p);
    }
    Set<Quirk> quirks = EnumSet.noneOf(Quirk.class);
    for (int i = 0; i < o.getQuirksCount(); i++) {
      quirks.add(quirk(field + ".quirks[" + i + "]", o.getQuirksValue(i)));
    }
    return new MmuOptions(p, quirks);
  }

  /** The proto form of {@code o} (explicit quirks). */
  public static org.mmumesh.proto.v1.MmuOptions toProto(MmuOptions o) {
    org.mmumesh.proto.v1.MmuOptions.Builder b =
        org.mmumesh.proto.v1.MmuOptions.newBuilder().setPolicy(toProto(o.policy()));
    for (Quirk q : o.quirks()) {
      b.addQuirks(toProto(q));
    }
    return b.build();
  }

  /** The access kind of enum number {@code number}; UNSPECIFIED and unknown numbers are refused. */
  public static Access access(String field, int number) {
    AccessKind k = AccessKind.forNumber(number);
    return switch (k == null ? AccessKind.UNRECOGNIZED : k) {
      case ACCESS_KIND_LOAD -> Access.LOAD;
      case ACCESS_KIND_STORE -> Access.STORE;
      case ACCESS_KIND_IFETCH -> Access.IFETCH;
      default ->
          throw GatewayException.badField(
              field,
              Fields.enumValue(AccessKind::forNumber, number)
                  + " is not allowed; use ACCESS_KIND_LOAD, ACCESS_KIND_STORE or ACCESS_KIND_IFETCH");
    };
  }

  /** True for a 64-bit guest (enum number {@code number}); UNSPECIFIED and unknown are refused. */
  public static boolean is64(String field, int number) {
    MmuKind k = MmuKind.forNumber(number);
    return switch (k == null ? MmuKind.UNRECOGNIZED : k) {
      case MMU_KIND_BOOK3S_64 -> true;
      case MMU_KIND_BOOK3S_32 -> false;
      default ->
          throw GatewayException.badField(
              field,
              Fields.enumValue(MmuKind::forNumber, number)
                  + " is not allowed; use MMU_KIND_BOOK3S_32 or MMU_KIND_BOOK3S_64");
    };
  }
}
