package io.ballast.snapshot;

import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.PutOptions;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import java.nio.ByteBuffer;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Passes every call to a bucket; tests override the calls they want to change or race. */
class ForwardingStorage implements ObjectStorage {
  private final ObjectStorage delegate;

  ForwardingStorage(ObjectStorage delegate) {
    this.delegate = delegate;
  }

  @Override
  public String describe() {
    return delegate.describe();
  }

  @Override
  public Mono<Void> checkExists() {
    return delegate.checkExists();
  }

  @Override
  public Mono<ObjectMeta> put(ObjectKey key, Flux<ByteBuffer> body, PutOptions options) {
    return delegate.put(key, body, options);
  }

  @Override
  public Mono<ReadResult> get(ObjectKey key, ReadCondition condition) {
    return delegate.get(key, condition);
  }

  @Override
  public Mono<ObjectMeta> head(ObjectKey key) {
    return delegate.head(key);
  }

  @Override
  public Flux<ObjectMeta> list(ObjectKey prefix) {
    return delegate.list(prefix);
  }

  @Override
  public Mono<Void> delete(ObjectKey key) {
    return delegate.delete(key);
  }
}
