using System.Text;
using System.Text.Json;
using MaskLab.Models;
using MaskLab.Platform;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Tests;

/// <summary>A damaged checkpoint is named as damaged; only a whole file that does not fit is called a mismatch.</summary>
[Collection(TorchRngCollection.Name)]
public sealed class CheckpointIntegrityTests : IDisposable
{
    readonly TempDir temp = new();

    public CheckpointIntegrityTests() => NativeSetup.Initialize();

    public void Dispose() => temp.Dispose();

    static nn.Module<Tensor, Tensor> Baseline() => ModelRegistry.Create("baseline", new ModelSpec(18, 16, 16));

    static TrainingState State => new(2, 0.25, 1, 1, 3.5, 64, Checkpoint.RngState());

    string Saved(string name, bool withOptimizer = true)
    {
        var path = temp.Combine(name);
        using var model = Baseline();
        using var opt = optim.AdamW(model.parameters(), 1e-3);
        Checkpoint.Save(path, model, withOptimizer ? opt : null, State);
        return path;
    }

    public static TheoryData<string, string> Damage => new()
    {
        { "cut", "cut short at" },
        { "flip-weights", "SHA-256 does not match" },
        { "flip-state", "SHA-256 does not match" },
        { "appended", "more than its header records" },
        { "header", "header is cut short" },
        { "empty", "is empty" },
        { "magic", "is not a MaskLab checkpoint" },
    };

    [Theory, MemberData(nameof(Damage))]
    public void DamageIsNamedAsDamage(string how, string expected)
    {
        var path = Saved("last.ckpt");
        var bytes = File.ReadAllBytes(path);
        int payload = Encoding.UTF8.GetByteCount("MASKLAB-CKPT-2") + 1 + 8 + 32;
        bytes = how switch
        {
            "cut" => bytes[..(bytes.Length * 2 / 3)],
            "flip-weights" => Flip(bytes, bytes.Length - 100),
            "flip-state" => Flip(bytes, payload + 10),
            "appended" => [.. bytes, 0, 1, 2],
            "header" => bytes[..(payload - 20)],
            "empty" => [],
            _ => Flip(bytes, 3),
        };
        File.WriteAllBytes(path, bytes);
        using var model = Baseline();
        using var opt = optim.AdamW(model.parameters(), 1e-3);
        var e = Assert.Throws<MaskLabInputException>(() => Checkpoint.Load(path, model, opt));
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
        Assert.DoesNotContain("does not fit", e.Message);
        Assert.DoesNotContain("optimiser", e.Message);
    }

    static byte[] Flip(byte[] bytes, int at)
    {
        var copy = (byte[])bytes.Clone();
        copy[at] ^= 0x10;
        return copy;
    }

    [Fact]
    public void AWholeCheckpointOfAnotherModelOrOptimiserIsAMismatch()
    {
        var path = Saved("best.ckpt");
        using var resnet = ModelRegistry.Create("resnet18", new ModelSpec(18, 16, 16));
        Assert.Contains("does not fit this model", Assert.Throws<MaskLabInputException>(() => Checkpoint.Load(path, resnet)).Message);
        using var model = Baseline();
        using var sgd = optim.SGD(model.parameters(), 1e-3, momentum: 0.9);
        Assert.Contains("another optimiser's state", Assert.Throws<MaskLabInputException>(() => Checkpoint.Load(path, model, sgd)).Message);
        Assert.Equal(State with { TorchRngState = "" }, Checkpoint.ReadState(path) with { TorchRngState = "" });
    }

    [Fact]
    public void AFormatOneCheckpointStillLoadsAndItsDamageIsNamed()
    {
        // Format 1, as written before checksums: magic, state, optimiser flag, weights, optimiser state.
        var path = temp.Combine("old.ckpt");
        torch.manual_seed(4);
        using var written = Baseline();
        using (var stream = File.Create(path))
        using (var writer = new BinaryWriter(stream, Encoding.UTF8))
        {
            writer.Write("MASKLAB-CKPT-1");
            writer.Write(JsonSerializer.Serialize(State));
            writer.Write(false);
            written.save(writer);
        }
        using var model = Baseline();
        Assert.Equal(State.EpochsDone, Checkpoint.Load(path, model).EpochsDone);
        using var x = torch.ones(2, 3, 16, 16);
        written.eval(); model.eval();
        Assert.True(written.call(x).allclose(model.call(x)));

        File.WriteAllBytes(path, File.ReadAllBytes(path)[..5000]);
        using var again = Baseline();
        Assert.Contains("damaged or does not fit", Assert.Throws<MaskLabInputException>(() => Checkpoint.Load(path, again)).Message);
    }

    [Fact]
    public void SavingLeavesNoTemporaryFileAndAFailedWriteKeepsTheOldFile()
    {
        var path = Saved("last.ckpt");
        var before = File.ReadAllBytes(path);
        Assert.Empty(Tree.TemporaryFiles(temp.Path));
        // The disk fills half-way through the write: the error names the file, the old one stays, nothing is left over.
        var e = Assert.Throws<MaskLabInputException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[300_000]);
            throw new IOException("No space left on device");
        }));
        Assert.Contains("cannot write", e.Message);
        Assert.Contains("last.ckpt", e.Message);
        Assert.Contains("No space left on device", e.Message);
        Assert.Empty(Tree.TemporaryFiles(temp.Path));
        Assert.Equal(before, File.ReadAllBytes(path));
        using var model = Baseline();
        Assert.Equal(State.EpochsDone, Checkpoint.Load(path, model).EpochsDone);
    }
}
