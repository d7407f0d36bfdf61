package org.mmumesh.gateway;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import java.io.IOException;

/**
 * Says where an undecodable request goes wrong, for the INVALID_ARGUMENT that answers it: a walk of
 * the protobuf wire format (tag, then a varint, fixed, length-delimited or group value) guided by
 * the request's descriptor, stopping at the first field whose bytes cannot be read (a varint or a
 * length that runs past the end, a string that is not UTF-8, a tag of field 0) and naming it by its
 * path ({@code options.policy}, {@code entity_id}). Only the failure path runs it: a request that
 * parses never comes here.
 */
final class WireDiagnosis {
  private WireDiagnosis() {}

  /**
   * "{@code field}: problem" for the first undecodable field of {@code bytes} read as {@code type},
   * or "request: problem" when no field can be named; {@code parserMessage} (the parser's own
   * words) is the problem when the walk finds nothing more precise.
   */
  static String describe(Descriptor type, byte[] bytes, String parserMessage) {
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    try {
      String found = walk(type, in, "");
      if (found != null) {
        return found;
      }
    } catch (IOException e) {
      return "request: " + e.getMessage();
    }
    return "request: " + parserMessage;
  }

  /** The first problem in the message that {@code in} holds up to its limit, or null. */
  private static String walk(Descriptor type, CodedInputStream in, String prefix)
      throws IOException {
    while (true) {
      int tag;
      try {
        if (in.isAtEnd()) {
          return null;
        }
        tag = in.readTag();
      } catch (InvalidProtocolBufferException e) {
        return where(prefix) + "at byte " + in.getTotalBytesRead() + ": " + words(e);
      }
      if (tag == 0) {
        return where(prefix) + "at byte " + in.getTotalBytesRead() + ": a field number of 0";
      }
      int number = WireFormat.getTagFieldNumber(tag);
      int wireType = WireFormat.getTagWireType(tag);
      FieldDescriptor f = type.findFieldByNumber(number);
      String name = prefix + (f != null ? f.getName() : "field " + number);
      try {
        if (f != null && wireType == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
          if (f.getType() == FieldDescriptor.Type.STRING) {
            ByteString s = in.readBytes();
            if (!s.isValidUtf8()) {
              return name + ": is not valid UTF-8 (" + s.size() + " bytes)";
            }
            continue;
          }
          if (f.getType() == FieldDescriptor.Type.MESSAGE) {
            int length = in.readRawVarint32();
            if (length < 0) {
              return name + ": a negative length";
            }
            int outer = in.pushLimit(length);
            String inner = walk(f.getMessageType(), in, name + ".");
            if (inner != null) {
              return inner;
            }
            in.popLimit(outer);
            continue;
          }
        }
        if (wireType == WireFormat.WIRETYPE_END_GROUP) {
          return name + ": an end-group tag with no group open";
        }
        in.skipField(tag);
      } catch (InvalidProtocolBufferException e) {
        return name + ": " + words(e);
      }
    }
  }

  private static String where(String prefix) {
    return prefix.isEmpty() ? "request: " : prefix.substring(0, prefix.length() - 1) + ": ";
  }

  /** The parser's message in this API's words where it has a clearer one. */
  private static String words(InvalidProtocolBufferException e) {
    String m = String.valueOf(e.getMessage());
    if (m.contains("input ended unexpectedly") || m.contains("truncated")) {
      return "the request ends in the middle of this field (truncated)";
    }
    if (m.contains("malformed varint")) {
      return "a malformed varint (more than 10 bytes)";
    }
    return m;
  }
}
