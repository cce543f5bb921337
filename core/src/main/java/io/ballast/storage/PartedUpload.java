package io.ballast.storage;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Uploads a body of any length through a backend's multipart (S3) or staged-block (Azure) API, for
 * the backends whose SDK cannot both stream a body of unknown length and let us check it before it
 * becomes visible.
 *
 * <p>The body is cut into parts of {@code partSize} bytes; memory holds at most three parts (the
 * one being sent, the one held back until it is known whether it is the last, and the one being
 * filled). Each part carries its own SHA-256 and MD5 for the backend to send, so the server
 * verifies every byte it receives. The whole body's length and SHA-256 are checked against {@link
 * PutOptions} <em>before</em> the upload is committed: a body that does not match is aborted and
 * never becomes readable. The write condition belongs to the single put or the commit, whichever
 * ends the upload. A body that fits in one part goes up as one request.
 */
public final class PartedUpload {

  /** The smallest part S3 accepts (except for the last one). */
  public static final int MIN_PART_SIZE = 5 * 1024 * 1024;

  public static final int DEFAULT_PART_SIZE = 8 * 1024 * 1024;

  private PartedUpload() {}

  /**
   * The requests of one backend's upload.
   *
   * @param <U> the backend's handle of a started multipart upload (S3: the upload id)
   * @param <R> what the backend keeps of a sent part to commit it (S3: part number and ETag)
   */
  public interface Steps<U, R> {

    /** The whole body is this one part: store it with a single request, under the condition. */
    Mono<ObjectMeta> putWhole(Part whole);

    /** Starts a multipart upload; nothing is visible until {@link #commit}. */
    Mono<U> begin();

    Mono<R> putPart(U upload, Part part);

    /**
     * Makes the parts, in this order, the object's content, under the write condition; {@code size}
     * is the whole body's length, for the returned metadata.
     */
    Mono<ObjectMeta> commit(U upload, List<R> parts, long size);

    /** Discards a started upload and its parts. */
    Mono<Void> abort(U upload);
  }

  /**
   * One part of the body.
   *
   * @param number 1-based
   * @param bytes the part's content; every part but the last has exactly the part size
   * @param last whether the body ends with this part
   */
  public record Part(int number, byte[] bytes, boolean last) {

    public Part {
      Objects.requireNonNull(bytes, "bytes");
    }

    public int size() {
      return bytes.length;
    }

    public byte[] sha256() {
      return digest("SHA-256").digest(bytes);
    }

    public String sha256Base64() {
      return Base64.getEncoder().encodeToString(sha256());
    }

    public byte[] md5() {
      return digest("MD5").digest(bytes);
    }

    public String md5Base64() {
      return Base64.getEncoder().encodeToString(md5());
    }
  }

  /**
   * Uploads {@code body} in parts of {@code partSize} bytes.
   *
   * @param object names the object in errors, e.g. {@code aws_s3 bucket 'b' key 'k'}; it must
   *     contain the key
   * @throws IllegalArgumentException when {@code partSize} is below {@link #MIN_PART_SIZE}
   */
  public static <U, R> Mono<ObjectMeta> upload(
      String object, Flux<ByteBuffer> body, PutOptions options, int partSize, Steps<U, R> steps) {
    if (partSize < MIN_PART_SIZE) {
      throw new IllegalArgumentException("partSize " + partSize + " < " + MIN_PART_SIZE);
    }
    return Mono.defer(() -> new Run<>(object, options, partSize, steps).upload(body));
  }

  /** The state of one upload: the digest of the whole body and the parts sent so far. */
  private static final class Run<U, R> {

    private final String object;
    private final PutOptions options;
    private final Steps<U, R> steps;
    private final Cutter cutter;
    private final List<R> sent = new ArrayList<>();
    private U upload;

    Run(String object, PutOptions options, int partSize, Steps<U, R> steps) {
      this.object = object;
      this.options = options;
      this.steps = steps;
      this.cutter = new Cutter(partSize);
    }

    Mono<ObjectMeta> upload(Flux<ByteBuffer> body) {
      return body.concatMapIterable(cutter::take, 1)
          .concatWith(Flux.defer(() -> Flux.fromIterable(cutter.finish())))
          .concatMap(this::send, 0)
          .single()
          .onErrorResume(this::abortAndFail)
          .doOnCancel(this::abortQuietly);
    }

    /** Sends one part; emits the object's metadata only after the last one. */
    private Mono<ObjectMeta> send(Part part) {
      if (part.number() == 1 && part.last()) {
        return verifyWhole().then(steps.putWhole(part));
      }
      Mono<U> started =
          part.number() == 1
              ? steps.begin().doOnNext(u -> upload = u)
              : Mono.fromSupplier(() -> upload);
      Mono<R> partSent = started.flatMap(u -> steps.putPart(u, part)).doOnNext(sent::add);
      if (!part.last()) {
        return partSent.then(Mono.empty());
      }
      return partSent
          .then(verifyWhole())
          .then(Mono.defer(() -> steps.commit(upload, List.copyOf(sent), cutter.size)));
    }

    /** Refuses a body whose length or SHA-256 differs from what the caller declared. */
    private Mono<Void> verifyWhole() {
      return Mono.defer(
          () -> {
            long declared = options.contentLength();
            if (declared >= 0 && declared != cutter.size) {
              return Mono.error(
                  new ChecksumMismatchException(
                      object
                          + ": the body has "
                          + cutter.size
                          + " bytes, but "
                          + declared
                          + " were declared; nothing was stored"));
            }
            String actual = HexFormat.of().formatHex(cutter.whole.digest());
            if (options.sha256Hex() != null && !options.sha256Hex().equals(actual)) {
              return Mono.error(
                  new ChecksumMismatchException(
                      object
                          + ": the body's SHA-256 is "
                          + actual
                          + ", but "
                          + options.sha256Hex()
                          + " was declared; nothing was stored"));
            }
            return Mono.empty();
          });
    }

    private Mono<ObjectMeta> abortAndFail(Throwable error) {
      if (upload == null) {
        return Mono.error(error);
      }
      U started = upload;
      upload = null;
      return steps
          .abort(started)
          .onErrorResume(
              abortError -> {
                error.addSuppressed(abortError);
                return Mono.empty();
              })
          .then(Mono.error(error));
    }

    private void abortQuietly() {
      if (upload != null) {
        U started = upload;
        upload = null;
        steps.abort(started).onErrorResume(e -> Mono.empty()).subscribe();
      }
    }
  }

  /**
   * Copies incoming buffers into parts of exactly {@code partSize} bytes. It holds back one full
   * part until it knows whether another follows, so each part knows whether it is the last.
   */
  private static final class Cutter {

    private final int partSize;
    private final MessageDigest whole = digest("SHA-256");
    private byte[] filling;
    private int filled;
    private Part held;
    private int numbered;
    private long size;

    Cutter(int partSize) {
      this.partSize = partSize;
    }

    List<Part> take(ByteBuffer buffer) {
      List<Part> ready = new ArrayList<>(1);
      whole.update(buffer.duplicate());
      size += buffer.remaining();
      while (buffer.hasRemaining()) {
        if (filling == null) {
          filling = new byte[partSize];
          filled = 0;
        }
        int n = Math.min(buffer.remaining(), partSize - filled);
        buffer.get(filling, filled, n);
        filled += n;
        if (filled == partSize) {
          if (held != null) {
            ready.add(held);
          }
          held = new Part(++numbered, filling, false);
          filling = null;
        }
      }
      return ready;
    }

    /** The parts still held once the body has ended; an empty body is one empty part. */
    List<Part> finish() {
      List<Part> rest = new ArrayList<>(2);
      boolean partial = filling != null && filled > 0;
      if (held != null) {
        rest.add(partial ? held : new Part(held.number(), held.bytes(), true));
      }
      if (partial || held == null) {
        byte[] tail = filling == null ? new byte[0] : Arrays.copyOf(filling, filled);
        rest.add(new Part(++numbered, tail, true));
      }
      held = null;
      filling = null;
      return rest;
    }
  }

  private static MessageDigest digest(String algorithm) {
    try {
      return MessageDigest.getInstance(algorithm);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(algorithm + " is missing from this JVM", e);
    }
  }
}
