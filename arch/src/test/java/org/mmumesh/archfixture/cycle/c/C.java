package org.mmumesh.archfixture.cycle.c;

import org.mmumesh.archfixture.cycle.a.A;

/** Fixture: package c names package a, and nothing names c: no cycle. */
public final class C {
  A a;
}
