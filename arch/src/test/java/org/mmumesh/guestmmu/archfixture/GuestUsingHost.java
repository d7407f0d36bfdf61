package org.mmumesh.guestmmu.archfixture;

import org.mmumesh.hostmmu.archfixture.HostThing;

/** Fixture: the guest MMU naming a host MMU class. */
public final class GuestUsingHost {
  HostThing host;
}
