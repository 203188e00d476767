using MaskLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskLab.Tests;

public sealed class LossScalerTests
{
    /// <summary>w = [1, 2] under SGD(lr 0.5), its gradient set by hand; returns what one scaler step did.</summary>
    static (bool Stepped, float[] Weights) StepWith(DynamicLossScaler scaler, float[] scaledGrad)
    {
        using var w = nn.Parameter(tensor(new float[] { 1, 2 }));
        var sgd = optim.SGD([w], 0.5);
        w.grad = tensor(scaledGrad);
        bool stepped = scaler.Step([w.grad!], () => sgd.step());
        return (stepped, w.data<float>().ToArray());
    }

    [Fact]
    public void DefaultsAreGradScalers()
    {
        var s = new DynamicLossScaler();
        Assert.Equal(65536, s.Scale);
        Assert.Equal(new LossScalerOptions(65536, 2, 0.5, 2000), s.Options);
    }

    [Fact]
    public void AnOverflowSkipsTheStepAndHalvesTheScale()
    {
        var scaler = new DynamicLossScaler(new LossScalerOptions(InitScale: 1024, GrowthInterval: 3));
        var (stepped, w) = StepWith(scaler, [float.PositiveInfinity, 1]);
        Assert.False(stepped);
        Assert.Equal(new float[] { 1, 2 }, w);
        Assert.Equal(512, scaler.Scale);
        (stepped, w) = StepWith(scaler, [float.NaN, 1]);
        Assert.False(stepped);
        Assert.Equal(new float[] { 1, 2 }, w);
        Assert.Equal(256, scaler.Scale);
        Assert.Equal(2, scaler.SkippedSteps);
        // A good step at scale 256: the gradient [256, -512] unscales to [1, -2]; w - 0.5 * g = [0.5, 3].
        (stepped, w) = StepWith(scaler, [256, -512]);
        Assert.True(stepped);
        Assert.Equal(new float[] { 0.5f, 3 }, w);
        Assert.Equal(256, scaler.Scale);
        Assert.Equal(1, scaler.GrowthTracker);
    }

    [Fact]
    public void TheScaleDoublesAfterTheGrowthIntervalOfGoodSteps()
    {
        var scaler = new DynamicLossScaler(new LossScalerOptions(InitScale: 8, GrowthInterval: 3));
        var seen = new List<(double, int)>();
        foreach (var overflow in new[] { false, false, false, false, false, true, false })
        {
            scaler.Update(overflow);
            seen.Add((scaler.Scale, scaler.GrowthTracker));
        }
        Assert.Equal([(8.0, 1), (8.0, 2), (16.0, 0), (16.0, 1), (16.0, 2), (8.0, 0), (8.0, 1)], seen);
    }

    [Fact]
    public void GrowthStopsWhereTheScaleWouldBecomeInfinite()
    {
        var scaler = new DynamicLossScaler(new LossScalerOptions(InitScale: Math.Pow(2, 127), GrowthInterval: 1));
        scaler.Update(false);
        Assert.Equal(Math.Pow(2, 127), scaler.Scale);
        Assert.Equal(0, scaler.GrowthTracker);
    }

    [Fact]
    public void UnscaledGradientsEqualThoseOfTheUnscaledLoss()
    {
        using var scope = NewDisposeScope();
        var gen = new torch.Generator(7);
        var model = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3));
        var x = randn([6, 5], generator: gen);
        var y = tensor(new long[] { 0, 1, 2, 0, 1, 2 });

        nn.functional.cross_entropy(model.call(x), y).backward();
        var reference = model.parameters().Select(p => p.grad!.clone()).ToList();
        model.zero_grad();

        var scaler = new DynamicLossScaler();
        scaler.ScaleLoss(nn.functional.cross_entropy(model.call(x), y)).backward();
        var grads = model.parameters().Select(p => p.grad!).ToList();
        Assert.NotEqual(reference[0].data<float>().ToArray(), grads[0].data<float>().ToArray());
        using var found = scaler.Unscale(grads);
        Assert.False(found.item<bool>());
        for (int i = 0; i < grads.Count; i++)
            Assert.Equal(reference[i].data<float>().ToArray(), grads[i].data<float>().ToArray());
    }

    [Fact]
    public void TheCheckIsExactWhereASumWouldOverflow()
    {
        var scaler = new DynamicLossScaler(new LossScalerOptions(InitScale: 1));
        // Each value is finite, their sum is not: a check that summed them would skip a good step.
        using var big = full(new long[] { 4 }, 3e38f);
        using var fine = scaler.Unscale([big]);
        Assert.False(fine.item<bool>());
        using var ok = tensor(new float[] { 1, 2 });
        using var inf = tensor(new float[] { 1, float.NegativeInfinity });
        using var found = scaler.Unscale([ok, inf]);
        Assert.True(found.item<bool>());
        using var none = scaler.Unscale([]);
        Assert.False(none.item<bool>());
    }

    [Fact]
    public void ASavedStateResumesTheSameSequence()
    {
        var options = new LossScalerOptions(InitScale: 64, GrowthInterval: 2);
        bool[] pattern = [false, true, false, false, false, true, false, false, false];
        var straight = new DynamicLossScaler(options);
        foreach (var o in pattern) straight.Update(o);

        var first = new DynamicLossScaler(options);
        foreach (var o in pattern[..4]) first.Update(o);
        var saved = first.State;
        var resumed = new DynamicLossScaler(options);
        resumed.Load(saved);
        foreach (var o in pattern[4..]) resumed.Update(o);

        Assert.Equal(straight.State, resumed.State);
        Assert.Equal(new LossScalerState(64, 1), straight.State);
    }

    [Fact]
    public void AnInvalidStateIsRefused()
    {
        var scaler = new DynamicLossScaler();
        Assert.Throws<MaskLabInputException>(() => scaler.Load(new LossScalerState(0, 0)));
        Assert.Throws<MaskLabInputException>(() => scaler.Load(new LossScalerState(double.PositiveInfinity, 0)));
        Assert.Throws<MaskLabInputException>(() => scaler.Load(new LossScalerState(8, -1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DynamicLossScaler(new LossScalerOptions(BackoffFactor: 1)));
    }
}
