package io.ballast.controlplane;

import io.ballast.controlplane.store.ConfigStore;
import io.ballast.controlplane.store.StoredResource;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import io.ballast.seal.Sealing;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a store in line with the node's sealing when the CP starts: a store written before sealing
 * was on holds secrets in plain text, one written before a key rotation holds values sealed with an
 * older entry, one written with sealing on and now read with it off holds sealed values. Each such
 * resource is written again in the form the Admin API would store it now, then a checkpoint
 * replaces the log, so no line of the store keeps the old form. A sealed value that no keyring
 * entry opens stops the start, naming the resource and field.
 */
public final class StoreSealer {

  private static final Logger log = LoggerFactory.getLogger(StoreSealer.class);

  private StoreSealer() {}

  /**
   * @return how many resources were written again
   * @throws io.ballast.resource.InvalidResourceException when a sealed value cannot be opened
   */
  public static int reseal(ConfigStore store, Sealing sealing) {
    List<Resource> changed = new ArrayList<>();
    for (ResourceType type : ResourceType.values()) {
      for (StoredResource stored : store.view().resources(type).values()) {
        Resource current = stored.resource();
        Resource wanted = sealing.forStore(current);
        if (wanted != current) {
          changed.add(wanted);
        }
      }
    }
    if (changed.isEmpty()) {
      return 0;
    }
    changed.forEach(store::put);
    store.checkpoint();
    log.info(
        "{} {} resources holding secrets in the store; wrote a checkpoint over the log",
        sealing.seals() ? "sealed again" : "opened",
        changed.size());
    return changed.size();
  }
}
