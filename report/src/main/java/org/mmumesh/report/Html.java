package org.mmumesh.report;

/**
 * Escaping for HTML text, HTML attributes and inline SVG alike. The output is also valid XML, so
 * the report's SVG fragments parse as XML (the structure tests rely on that).
 */
public final class Html {
  private Html() {}

  /**
   * Escapes {@code &}, {@code <}, {@code >}, {@code "} and {@code '}, and replaces control
   * characters other than tab, line feed and carriage return (which XML forbids) and lone
   * surrogates with U+FFFD. {@code null} becomes the empty string.
   */
  public static String escape(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> {
          if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0xFFFE || c == 0xFFFF) {
            b.append('\uFFFD');
          } else if (Character.isHighSurrogate(c)
              && i + 1 < s.length()
              && Character.isLowSurrogate(s.charAt(i + 1))) {
            b.append(c).append(s.charAt(++i));
          } else if (Character.isSurrogate(c)) {
            b.append('\uFFFD');
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.toString();
  }
}
