using MaskLab.Data.Layout;
using MaskLab.Data.Loading;
using MaskLab.Losses;
using MaskLab.Models;
using MaskLab.Training;
using static TorchSharp.torch;

namespace MaskLab.Tests;

/// <summary>The ordinal age head: targets, band probabilities, loss and mixing worked out by hand, and a learning check.</summary>
public class AgeHeadTests
{
    public AgeHeadTests() => MaskLab.Platform.NativeSetup.Initialize();

    static OrdinalAgeHead Head(params string[] overrides)
    {
        var config = RunConfig.Load(null, ["age_head=ordinal", .. overrides]).Validate();
        return Assert.IsType<OrdinalAgeHead>(OutputHeads.Create(config.HeadSection, 18, taskClasses: true, config.LossSection));
    }

    static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    [Fact]
    public void Targets_say_age_at_least_each_year()
    {
        Assert.Equal(42, AgeOrdinal.Thresholds);
        var t30 = AgeOrdinal.Targets(30);
        // Thresholds 19..30 hold (12 of them), 31..60 do not.
        Assert.Equal(12, t30.Count(v => v == 1));
        Assert.Equal(1f, t30[AgeOrdinal.IndexOf(30)]);
        Assert.Equal(0f, t30[AgeOrdinal.IndexOf(31)]);
        Assert.All(AgeOrdinal.Targets(18), v => Assert.Equal(0f, v));
        Assert.All(AgeOrdinal.Targets(60), v => Assert.Equal(1f, v));
        Assert.Equal(AgeOrdinal.Targets(60), AgeOrdinal.Targets(75)); // clamped into the task's range
    }

    [Fact]
    public void Band_probabilities_cut_the_ordinal_output_at_the_age_cuts()
    {
        var logits = zeros(1, 42);
        logits[0, AgeOrdinal.IndexOf(30)] = tensor((float)Math.Log(0.8 / 0.2)); // P(age >= 30) = 0.8
        logits[0, AgeOrdinal.IndexOf(58)] = tensor((float)Math.Log(0.3 / 0.7)); // P(age >= 58) = 0.3
        logits[0, AgeOrdinal.IndexOf(60)] = tensor((float)Math.Log(0.1 / 0.9)); // P(age >= 60) = 0.1
        var at60 = AgeOrdinal.BandProbabilities(logits, AgeCuts.Scoring).data<float>().ToArray();
        Assert.Equal(new[] { 0.2, 0.7, 0.1 }, at60.Select(v => Math.Round(v, 5)));
        var at58 = AgeOrdinal.BandProbabilities(logits, new AgeCuts(30, 58)).data<float>().ToArray();
        Assert.Equal(new[] { 0.2, 0.5, 0.3 }, at58.Select(v => Math.Round(v, 5)));

        // Thresholds learned apart can cross: the middle band is clamped at 0 and the rest renormalised.
        logits[0, AgeOrdinal.IndexOf(60)] = tensor((float)Math.Log(0.9 / 0.1));
        var crossed = AgeOrdinal.BandProbabilities(logits, AgeCuts.Scoring).data<float>().ToArray();
        Assert.Equal(new[] { 0.2 / 1.1, 0, 0.9 / 1.1 }, crossed.Select(v => Math.Round(v, 5)), new RoundedEquality(5));
    }

    [Fact]
    public void An_over_threshold_below_one_half_calls_the_upper_band_from_that_probability_on()
    {
        var logits = zeros(2, 42);
        logits[.., AgeOrdinal.IndexOf(30)] = tensor(5f);                                // P(age >= 30) near 1
        logits[0, AgeOrdinal.IndexOf(60)] = tensor((float)Math.Log(0.35 / 0.65));      // P(age >= 60) = 0.35
        logits[1, AgeOrdinal.IndexOf(60)] = tensor((float)Math.Log(0.25 / 0.75));      // P(age >= 60) = 0.25
        static long[] Bands(Tensor p) => p.argmax(1).data<long>().ToArray();

        Assert.Equal([1L, 1L], Bands(AgeOrdinal.BandProbabilities(logits, AgeCuts.Scoring)));
        Assert.Equal([2L, 1L], Bands(AgeOrdinal.BandProbabilities(logits, AgeCuts.Scoring, 0.3)));
        Assert.Equal([2L, 2L], Bands(AgeOrdinal.BandProbabilities(logits, AgeCuts.Scoring, 0.2)));
        // At 0.3 the upper band's probability is what a threshold of 0.5 would see: P = 0.35 reads as 0.35 / 0.3 odds-shifted.
        var shifted = AgeOrdinal.BandProbabilities(logits, AgeCuts.Scoring, 0.3).data<float>().ToArray();
        Assert.Equal(Sigmoid(Math.Log(0.35 / 0.65) + Math.Log(0.7 / 0.3)), shifted[2], 3);
        // 0.5 is the output as it comes, to the bit.
        Assert.Equal(AgeOrdinal.BandProbabilities(logits, AgeCuts.Scoring).data<float>().ToArray(),
            AgeOrdinal.BandProbabilities(logits, AgeCuts.Scoring, AgeOrdinal.EvenThreshold).data<float>().ToArray());
        // The run's setting reaches the head, and is checked.
        Assert.Equal(0.3, Head("age_over_threshold=0.3").Spec.OverThreshold);
        Assert.Contains("age_over_threshold", Assert.Throws<MaskLabInputException>(() => RunConfig.Load(null, ["age_over_threshold=1"]).Validate()).Message);
    }

    sealed class RoundedEquality(int digits) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Round(a, digits) == Math.Round(b, digits);
        public int GetHashCode(double v) => Math.Round(v, digits).GetHashCode();
    }

    [Fact]
    public void Ages_are_the_youngest_age_plus_the_summed_threshold_probabilities()
    {
        var head = Head();
        var x = new float[3, 60];
        for (int j = 18; j < 60; j++)
        {
            x[0, j] = 30;                                  // every "age >= t" certain: 60
            x[1, j] = -30;                                 // none: 18
            x[2, j] = j - 18 < 12 ? 30 : j - 18 < 13 ? 0 : -30; // ages 19..30 certain, 31 at one half: 30.5
        }
        var ages = head.Ages(tensor(x))!.data<float>().ToArray();
        Assert.Equal([60f, 18f, 30.5f], ages.Select(a => MathF.Round(a, 3)));
        Assert.Null(((IOutputHead)head.Inner).Ages(tensor(x)));
    }

    [Fact]
    public void Probabilities_keep_mask_and_gender_of_the_class_head_and_take_age_from_the_ordinal_output()
    {
        var head = Head("age_over_threshold=0.5"); // the output as it comes, worked out by hand below
        Assert.Equal(18 + 42, head.Outputs);
        var rng = new Random(3);
        var x = new float[2, 60];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 60; j++) x[i, j] = (float)(rng.NextDouble() * 4 - 2);
        var p = head.Probabilities(tensor(x)).data<float>().ToArray();
        for (int n = 0; n < 2; n++)
        {
            var max = Enumerable.Range(0, 18).Max(c => x[n, c]);
            var e = Enumerable.Range(0, 18).Select(c => Math.Exp(x[n, c] - max)).ToArray();
            var softmax = e.Select(v => v / e.Sum()).ToArray();
            double ge30 = Sigmoid(x[n, 18 + AgeOrdinal.IndexOf(30)]), ge60 = Sigmoid(x[n, 18 + AgeOrdinal.IndexOf(60)]);
            var band = new[] { 1 - ge30, Math.Max(0, ge30 - ge60), ge60 };
            band = band.Select(b => b / band.Sum()).ToArray();
            for (int c = 0; c < 18; c++)
            {
                var (m, g, _) = TaskClasses.Decode(c);
                double maskGender = Enumerable.Range(0, 3).Sum(a => softmax[TaskClasses.Encode(m, g, (AgeBand)a)]);
                Assert.Equal(maskGender * band[(int)TaskClasses.AgeOf(c)], p[n * 18 + c], 5);
            }
            Assert.Equal(1.0, Enumerable.Range(0, 18).Sum(c => p[n * 18 + c]), 5);
        }
    }

    [Fact]
    public void Loss_is_the_class_loss_plus_the_weighted_ordinal_cross_entropy_and_leaves_unknown_ages_out()
    {
        var head = Head("age_head_weight=0.5");
        var rng = new Random(4);
        var x = new float[2, 60];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 60; j++) x[i, j] = (float)(rng.NextDouble() * 2 - 1);
        var labels = tensor(new long[] { 4, 13 });
        var aux = new float[2 * 42];
        AgeOrdinal.Targets(45).CopyTo(aux, 0);
        Array.Fill(aux, float.NaN, 42, 42); // the second photo has no known age (a pseudo label)
        var loss = head.Loss(tensor(x), labels, tensor(aux, [2, 42])).item<float>();

        double ce = 0;
        for (int n = 0; n < 2; n++)
        {
            var max = Enumerable.Range(0, 18).Max(c => x[n, c]);
            var logSum = Math.Log(Enumerable.Range(0, 18).Sum(c => Math.Exp(x[n, c] - max))) + max;
            ce += logSum - x[n, n == 0 ? 4 : 13];
        }
        ce /= 2;
        double bce = 0;
        for (int t = 0; t < 42; t++)
        {
            double z = x[0, 18 + t], y = aux[t];
            bce += -(y * Math.Log(Sigmoid(z)) + (1 - y) * Math.Log(1 - Sigmoid(z)));
        }
        bce /= 42;
        Assert.Equal(ce + 0.5 * bce, loss, 4);
        // Without targets only the class loss counts (validation's loss).
        Assert.Equal(ce, head.Loss(tensor(x), labels).item<float>(), 4);
    }

    [Fact]
    public void Mixing_blends_the_ordinal_targets_as_it_blends_the_labels()
    {
        int n = 4;
        var samples = Enumerable.Range(0, n).Select(i => new Sample($"p{i}", i, $"g{i}",
            new Person($"{i}", Gender.Female, "Asian", 20 + 12 * i, $"{i}"), MaskState.Wear)).ToArray();
        using var batch = new Batch(randn(n, 3, 8, 8), tensor(new long[] { 0, 1, 2, 3 }), [0, 1, 2, 3])
        {
            AuxTargets = tensor(samples.SelectMany(s => AgeOrdinal.Targets(s.Person!.Age)).ToArray(), [n, 42]),
        };
        var records = Mixing.Apply(batch, new MixOptions(CutmixVertical: 1), 18, seed: 7, epoch: 0, batchIndex: 0);
        var aux = batch.AuxTargets!.data<float>().ToArray();
        for (int i = 0; i < n; i++)
        {
            var own = AgeOrdinal.Targets(samples[i].Person!.Age);
            var other = AgeOrdinal.Targets(samples[records[i].Partner].Person!.Age);
            for (int t = 0; t < 42; t++)
                Assert.Equal(records[i].OwnWeight * own[t] + (1 - records[i].OwnWeight) * other[t], aux[i * 42 + t], 5);
        }
        // The soft class targets carry the same weights.
        var soft = batch.SoftTargets!.data<float>().ToArray();
        Assert.Equal(records[0].OwnWeight, soft[0], 5);
    }

    [Fact]
    public void Cuts_outside_the_ordinal_range_and_data_without_ages_are_refused()
    {
        var e = Assert.Throws<MaskLabInputException>(() => RunConfig.Load(null, ["age_head=ordinal", "age_cuts=18,60"]).Validate());
        Assert.Contains("age_cuts 18,60", e.Message);
        Assert.Throws<MaskLabInputException>(() => RunConfig.Load(null, ["age_head=ordinal", "age_cuts=30,61"]).Validate());
        var config = RunConfig.Load(null, ["age_head=ordinal"]).Validate();
        var refused = Assert.Throws<MaskLabInputException>(() => OutputHeads.Create(config.HeadSection, 5, taskClasses: false, config.LossSection));
        Assert.Contains("age_head 'ordinal'", refused.Message);
    }

    [Fact]
    public void The_ordinal_output_learns_the_age_order()
    {
        // A fixed seed and the tiny set: after training, the ordinal output ranks validation people by age far better
        // than chance (a broken head, or targets not reaching it, ranks at 0.5).
        var config = RunConfig.Load(null, [$"data={TinySynthetic.Root}", "model=resnet18", "image_size=48x64", "epochs=6",
            "batch_size=16", "lr=0.001", "warmup_epochs=0", "seed=1", "threads=2", "age_head=ordinal"]).Validate();
        var run = new RunDirectory(Directory.CreateTempSubdirectory("masklab-agehead-").FullName);
        var data = TrainingData.Load(config.DataSection, SilentObserver.Instance, CancellationToken.None);
        run.Create();
        run.WriteConfig(config);
        new Trainer(config, run).Train(data, CancellationToken.None, resume: false);
        using var trained = Evaluation.TrainedRun.Load(run.Path, CheckpointChoice.Last);
        var head = Assert.IsType<OrdinalAgeHead>(trained.Head);
        var loader = Evaluation.Inference.Loader(data.Set.Samples, data.ValIndices, data.Cache, config.ImageSize, 1, config.Input);
        var scores = new List<double>();
        using (no_grad())
            foreach (var batch in loader.Epoch(0))
                using (batch)
                {
                    trained.Model.eval();
                    var (_, ordinal) = head.Split(trained.Model.call(batch.Images));
                    // Expected age above 18: the sum of P(age >= t) over the thresholds.
                    scores.AddRange(ordinal.sigmoid().sum(1).data<float>().ToArray().Select(v => (double)v));
                }
        var ages = data.ValIndices.Select(i => data.Set.Samples[i].Person!.Age).ToArray();
        int concordant = 0, pairs = 0;
        for (int i = 0; i < ages.Length; i++)
            for (int j = 0; j < ages.Length; j++)
                if (ages[i] < ages[j] - 10) { pairs++; if (scores[i] < scores[j]) concordant++; }
        double c = (double)concordant / pairs;
        Assert.True(c > 0.7, $"the ordinal output orders {c:P0} of validation pairs more than 10 years apart (chance: 50 %)");
    }
}
