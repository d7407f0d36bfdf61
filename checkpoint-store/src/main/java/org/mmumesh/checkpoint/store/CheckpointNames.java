package org.mmumesh.checkpoint.store;

import java.util.regex.Pattern;

/** The rules for checkpoint names and part keys, checked before anything is written. */
public final class CheckpointNames {
  /** The longest checkpoint name. */
  public static final int MAX_NAME_LENGTH = 128;

  /** The longest entity kind or entity id of a part. */
  public static final int MAX_KEY_LENGTH = 256;

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private CheckpointNames() {}

  /**
   * Checks a checkpoint name: 1-128 characters of {@code [A-Za-z0-9._-]}, starting with a letter or
   * a digit (safe in a file name, a URL and a shell).
   *
   * @throws IllegalArgumentException naming the rule the name breaks
   */
  public static String requireValidName(String name) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("checkpoint name: must not be empty");
    }
    if (name.length() > MAX_NAME_LENGTH) {
      throw new IllegalArgumentException(
          "checkpoint name: "
              + name.length()
              + " characters; allowed 1-"
              + MAX_NAME_LENGTH
              + " characters");
    }
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "checkpoint name '"
              + name
              + "': allowed characters are A-Z a-z 0-9 . _ - and the first must be a letter or a"
              + " digit");
    }
    return name;
  }

  /**
   * Checks a part's entity kind or entity id: 1-256 characters, no control characters.
   *
   * @throws IllegalArgumentException naming the field and the rule
   */
  static String requireValidKey(String field, String value) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(field + ": must not be empty");
    }
    if (value.length() > MAX_KEY_LENGTH) {
      throw new IllegalArgumentException(
          field + ": " + value.length() + " characters; allowed 1-" + MAX_KEY_LENGTH);
    }
    for (int i = 0; i < value.length(); i++) {
      if (Character.isISOControl(value.charAt(i))) {
        throw new IllegalArgumentException(
            field + " '" + value.replaceAll("\\p{Cntrl}", "?") + "': control characters");
      }
    }
    return value;
  }
}
