using MaskLab.Models;
using MaskLab.Platform;
using MaskLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Tests;

[Collection(TorchRngCollection.Name)]
public class CheckpointTests
{
    public CheckpointTests() => NativeSetup.Initialize();

    [Fact]
    public void WeightsOptimiserAndStateRoundTrip()
    {
        var dir = Directory.CreateTempSubdirectory("masklab-ckpt-").FullName;
        var path = Path.Combine(dir, "last.ckpt");
        torch.manual_seed(1);
        using var model = ModelRegistry.Create("baseline", new ModelSpec(18, 32, 32));
        using var opt = optim.AdamW(model.parameters(), 1e-3);
        using var x = randn(4, 3, 32, 32);
        using (var loss = model.call(x).sum()) { loss.backward(); opt.step(); }
        var state = new TrainingState(3, 0.5, 2, 1, 12.5, 300, Checkpoint.RngState());
        Checkpoint.Save(path, model, opt, state);
        Assert.False(File.Exists(path + ".tmp"));

        torch.manual_seed(2);
        using var other = ModelRegistry.Create("baseline", new ModelSpec(18, 32, 32));
        using var otherOpt = optim.AdamW(other.parameters(), 1e-3);
        model.eval(); other.eval();
        Assert.False(model.call(x).allclose(other.call(x)));
        var loaded = Checkpoint.Load(path, other, otherOpt);
        Assert.Equal(state, loaded);
        Assert.True(model.call(x).allclose(other.call(x)));
    }

    [Fact]
    public void RngStateRestoresTheSameRandomNumbers()
    {
        torch.manual_seed(5);
        var saved = Checkpoint.RngState();
        var a = rand(5).data<float>().ToArray();
        Checkpoint.RestoreRng(saved);
        var b = rand(5).data<float>().ToArray();
        Assert.Equal(a, b);
    }

    [Fact]
    public void NotACheckpointIsAClearError()
    {
        var path = Path.Combine(Path.GetTempPath(), $"masklab-{Guid.NewGuid():N}.ckpt");
        File.WriteAllText(path, "hello");
        using var model = ModelRegistry.Create("baseline", new ModelSpec(18, 32, 32));
        var e = Assert.Throws<MaskLabInputException>(() => Checkpoint.Load(path, model));
        Assert.Contains(path, e.Message);
    }
}
