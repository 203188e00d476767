using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskLab.Runs;

/// <summary>What a checkpoint keeps of fp16 training's loss scaler to resume it exactly.</summary>
/// <param name="Scale">The current scale.</param>
/// <param name="GrowthTracker">Good steps since the scale last changed.</param>
public sealed record LossScalerState(double Scale, int GrowthTracker);

/// <summary>Where training stood when a checkpoint was written; enough to continue exactly.</summary>
public sealed record TrainingState(
    int EpochsDone, double BestMacroF1, int BestEpoch, int EpochsWithoutImprovement, double TrainSeconds,
    long TrainImagesSeen, string TorchRngState)
{
    /// <summary>fp16 runs: the loss scaler's scale and growth count, so a resumed run scales as it would have.</summary>
    public LossScalerState? LossScaler { get; init; }

    /// <summary>The state once the 0-based <paramref name="epoch"/> is trained and validated; the random state is taken now.</summary>
    public TrainingState After(int epoch, double macroF1, bool improved, double trainSeconds, long images, LossScalerState? scaler) => this with
    {
        EpochsDone = epoch + 1,
        BestMacroF1 = improved ? macroF1 : BestMacroF1,
        BestEpoch = improved ? epoch + 1 : BestEpoch,
        EpochsWithoutImprovement = improved ? 0 : EpochsWithoutImprovement + 1,
        TrainSeconds = TrainSeconds + trainSeconds,
        TrainImagesSeen = TrainImagesSeen + images,
        TorchRngState = Checkpoint.RngState(),
        LossScaler = scaler,
    };
}

/// <summary>
/// One file per checkpoint: a header, the training state as JSON, the model weights and, for resumable
/// checkpoints, the optimiser state. Written to a temporary file and renamed, so a killed run never leaves a
/// half-written checkpoint in place of a good one.
/// </summary>
/// <remarks>
/// Format 2 (this version writes it): the text <c>MASKLAB-CKPT-2</c>, the payload's length (8 bytes) and SHA-256
/// (32 bytes), then the payload. A file cut short or changed on the disk is refused as damaged before any of it is
/// read as weights, so only a whole, unchanged file that does not fit is called a mismatch. Format 1 (no length or
/// hash) is still read, for runs trained before; its damage can only be guessed from where reading fails.
/// </remarks>
public static class Checkpoint
{
    const string Magic = "MASKLAB-CKPT-2";
    const string MagicV1 = "MASKLAB-CKPT-1";
    const int HashBytes = 32;

    public static void Save(string path, nn.Module model, OptimizerHelper? optimizer, TrainingState state)
    {
        AtomicFile.Write(path, file =>
        {
            using (var header = new BinaryWriter(file, Encoding.UTF8, leaveOpen: true))
            {
                header.Write(Magic);
                header.Write(0L);
                header.Write(new byte[HashBytes]);
            }
            long payloadStart = file.Position;
            byte[] hash;
            using (var hashing = new HashingStream(file))
            {
                using (var writer = new BinaryWriter(hashing, Encoding.UTF8, leaveOpen: true))
                {
                    writer.Write(JsonSerializer.Serialize(state));
                    writer.Write(optimizer is not null);
                    model.save(writer);
                    writer.Flush();
                    CrashPoint.Pass("checkpoint");
                    optimizer?.save_state_dict(writer);
                }
                hash = hashing.Hash();
            }
            long length = file.Position - payloadStart;
            file.Position = payloadStart - 8 - HashBytes;
            using (var header = new BinaryWriter(file, Encoding.UTF8, leaveOpen: true))
            {
                header.Write(length);
                header.Write(hash);
            }
        });
    }

    /// <summary>Loads weights (and the optimiser state when given and present); returns the training state.</summary>
    /// <exception cref="MaskLabInputException">Missing, damaged (cut short, changed), not a checkpoint, or not of this model or optimiser.</exception>
    public static TrainingState Load(string path, nn.Module model, OptimizerHelper? optimizer = null) =>
        Read(path, (reader, hasOptimizer, damaged) =>
        {
            try
            {
                model.load(reader, strict: true);
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentException or EndOfStreamException or IOException)
            {
                throw damaged ?? new MaskLabInputException($"checkpoint '{path}' does not fit this model ({e.Message.ReplaceLineEndings(" ")})");
            }
            if (optimizer is not null && hasOptimizer)
            {
                try { optimizer.load_state_dict(reader); }
                catch (Exception e) when (e is InvalidDataException or ArgumentException or EndOfStreamException or IOException)
                {
                    throw damaged ?? new MaskLabInputException($"checkpoint '{path}' holds another optimiser's state; resume with the optimizer it was trained with");
                }
            }
        });

    /// <summary>The training state alone (which epoch, which best), checking the file whole.</summary>
    public static TrainingState ReadState(string path) => Read(path, (_, _, _) => { });

    /// <summary>
    /// The cheap check of a checkpoint nothing is about to load (a finished run a sweep skips): its header is whole and
    /// records the length the file has. A format-1 file, which has no such header, passes.
    /// </summary>
    /// <exception cref="MaskLabInputException">Missing, not a checkpoint, or cut short or grown since it was written.</exception>
    public static void CheckHeader(string path) => Opened(path, (stream, reader, magic) =>
    {
        if (magic == MagicV1) return 0;
        if (magic != Magic) throw NotACheckpoint(path, stream);
        long length;
        try
        {
            length = reader.ReadInt64();
            if (reader.ReadBytes(HashBytes).Length != HashBytes) length = -1;
        }
        catch (EndOfStreamException) { length = -1; }
        long actual = stream.Length - stream.Position;
        if (length < 0) throw new MaskLabInputException($"checkpoint '{path}' is damaged: its header is cut short ({stream.Length} bytes)");
        if (actual != length)
            throw new MaskLabInputException($"checkpoint '{path}' is damaged: {(actual < length ? "cut short" : "longer than written")} ({stream.Length:N0} bytes, {stream.Position + length:N0} recorded)");
        return 0;
    });

    /// <summary>
    /// Opens a checkpoint that must exist and be a regular file, reads its magic string ("" where there is none) and
    /// hands both to <paramref name="read"/>; an I/O failure is one line naming the file.
    /// </summary>
    static T Opened<T>(string path, Func<FileStream, BinaryReader, string, T> read)
    {
        if (!File.Exists(path)) throw new MaskLabInputException($"checkpoint '{path}' does not exist");
        InputFile.Require(path, "checkpoint", long.MaxValue);
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            string magic;
            try { magic = reader.ReadString(); }
            catch (Exception e) when (e is EndOfStreamException or FormatException) { magic = ""; }
            return read(stream, reader, magic);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MaskLabInputException($"cannot read checkpoint '{path}': {e.Message}");
        }
    }

    static MaskLabInputException NotACheckpoint(string path, FileStream stream) =>
        new(stream.Length == 0 ? $"checkpoint '{path}' is empty" : $"'{path}' is not a MaskLab checkpoint");

    /// <summary>
    /// Opens the file, checks it whole (format 2) and reads the state; <paramref name="body"/> reads the rest. For a
    /// format-1 file the body gets the exception to throw when reading fails (it cannot tell damage from a mismatch).
    /// </summary>
    static TrainingState Read(string path, Action<BinaryReader, bool, MaskLabInputException?> body) => Opened(path, (stream, reader, magic) =>
    {
        MaskLabInputException? guess = null;
        if (magic == Magic) Verify(path, stream, reader);
        else if (magic == MagicV1)
            guess = new MaskLabInputException($"checkpoint '{path}' is damaged or does not fit this model (an old checkpoint without a checksum; train again to get one)");
        else throw NotACheckpoint(path, stream);

        TrainingState state;
        bool hasOptimizer;
        try
        {
            state = JsonSerializer.Deserialize<TrainingState>(reader.ReadString())
                    ?? throw new MaskLabInputException($"checkpoint '{path}' has no training state");
            hasOptimizer = reader.ReadBoolean();
        }
        catch (Exception e) when (e is JsonException or EndOfStreamException or FormatException)
        {
            throw guess ?? new MaskLabInputException($"checkpoint '{path}' has an unreadable training state ({e.Message.ReplaceLineEndings(" ")})");
        }
        body(reader, hasOptimizer, guess);
        return state;
    });

    /// <summary>Checks the length and the SHA-256 in the header against the bytes after it, then rewinds to them.</summary>
    static void Verify(string path, FileStream stream, BinaryReader reader)
    {
        long length;
        byte[] expected;
        try
        {
            length = reader.ReadInt64();
            expected = reader.ReadBytes(HashBytes);
        }
        catch (EndOfStreamException) { length = -1; expected = []; }
        long start = stream.Position;
        long actual = stream.Length - start;
        if (expected.Length != HashBytes || length < 0)
            throw new MaskLabInputException($"checkpoint '{path}' is damaged: its header is cut short ({stream.Length} bytes)");
        if (actual < length)
            throw new MaskLabInputException($"checkpoint '{path}' is damaged: cut short at {stream.Length:N0} of {start + length:N0} bytes");
        if (actual > length)
            throw new MaskLabInputException($"checkpoint '{path}' is damaged: {actual - length:N0} bytes more than its header records");
        var hash = SHA256.HashData(stream);
        if (!hash.AsSpan().SequenceEqual(expected))
            throw new MaskLabInputException($"checkpoint '{path}' is damaged: its SHA-256 does not match the one written with it");
        stream.Position = start;
    }

    public static string RngState()
    {
        using var s = torch.random.get_rng_state();
        return Convert.ToBase64String(s.data<byte>().ToArray());
    }

    public static void RestoreRng(string base64)
    {
        var bytes = Convert.FromBase64String(base64);
        using var s = torch.tensor(bytes, dtype: ScalarType.Byte);
        torch.random.set_rng_state(s);
    }

    /// <summary>Passes writes through to a stream while hashing them (SHA-256); forward only.</summary>
    sealed class HashingStream(Stream inner) : Stream
    {
        readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public byte[] Hash() => hash.GetHashAndReset();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.AppendData(buffer);
            inner.Write(buffer);
        }

        public override void WriteByte(byte value) => Write([value]);

        public override void Flush() => inner.Flush();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) hash.Dispose();
            base.Dispose(disposing);
        }
    }
}
