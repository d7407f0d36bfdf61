package org.mmumesh.archfixture.cycle.b;

import org.mmumesh.archfixture.cycle.a.A;

/** Fixture: package b names package a: a cycle. */
public final class B {
  A a;
}
