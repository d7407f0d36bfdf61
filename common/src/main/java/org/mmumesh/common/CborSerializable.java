package org.mmumesh.common;

/**
 * The marker every message that may cross nodes implements (style 10): {@code application.conf}
 * binds it to Pekko's Jackson CBOR serializer, and Java serialization stays off. Commands, replies
 * and events of every actor protocol implement it; a test runs each one through the serializer.
 */
public interface CborSerializable {}
