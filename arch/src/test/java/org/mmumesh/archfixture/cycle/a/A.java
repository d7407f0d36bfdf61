package org.mmumesh.archfixture.cycle.a;

import org.mmumesh.archfixture.cycle.b.B;

/** Fixture: package a names package b. */
public final class A {
  B b;
}
