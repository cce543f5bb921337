package io.ballast.storage.memory;

import io.ballast.storage.AbstractObjectStorageContractTest;
import io.ballast.storage.ObjectStorage;

class MemoryObjectStorageTest extends AbstractObjectStorageContractTest {

  private final MemoryObjectStorage storage = new MemoryObjectStorage();

  @Override
  protected ObjectStorage storage() {
    return storage;
  }
}
