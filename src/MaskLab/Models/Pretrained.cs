using System.Collections;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MaskLab.Models;

/// <summary>What <see cref="Pretrained.Load"/> did: tensors copied, and checkpoint keys left out on purpose.</summary>
public sealed record PretrainedReport(int Loaded, IReadOnlyList<string> SkippedClassifier, IReadOnlyList<string> Ignored);

/// <summary>
/// Loads weights written by PyTorch (torchvision, timm) into a model made here: a state_dict saved with
/// <c>torch.save</c> (.pt / .pth / .bin, also a checkpoint holding it under <c>state_dict</c> or <c>model</c>) or
/// a .safetensors file.
/// </summary>
internal static class Pretrained
{
    const int ListedPerKind = 12;

    /// <summary>
    /// Copies every tensor of <paramref name="file"/> into <paramref name="model"/>. Names go through the model's
    /// <see cref="IWeightMapping"/> when it has one, and a <c>module.</c> prefix (DataParallel) is dropped. The
    /// classifier (the last Linear with <paramref name="numClasses"/> outputs) keeps its fresh initialisation when
    /// the checkpoint's has another class count. Anything else that does not fit, missing, unexpected or
    /// of another shape, fails the whole load with a <see cref="MaskLabInputException"/> listing the keys; the model
    /// is then left untouched.
    /// </summary>
    public static PretrainedReport Load(nn.Module model, string file, int numClasses)
    {
        if (!File.Exists(file)) throw new MaskLabInputException($"weights file '{file}' not found");
        var source = Read(file);
        try
        {
            return Apply(model, source, file, numClasses);
        }
        finally
        {
            foreach (var t in source.Values) t.Dispose();
        }
    }

    static PretrainedReport Apply(nn.Module model, Dictionary<string, Tensor> source, string file, int numClasses)
    {
        var mapping = model as IWeightMapping;
        var target = model.state_dict();
        var classifier = ModelParts.FindClassifier(model, numClasses)?.Path;
        var classifierKeys = classifier is null
            ? new HashSet<string>()
            : new HashSet<string> { classifier + ".weight", classifier + ".bias" };

        var stripModule = source.Count > 0 && source.Keys.All(k => k.StartsWith("module.", StringComparison.Ordinal));
        var ignored = new List<string>();
        var unexpected = new List<string>();
        var mapped = new Dictionary<string, (string FileKey, Tensor Value)>();
        foreach (var (fileKey, value) in source)
        {
            var key = stripModule ? fileKey["module.".Length..] : fileKey;
            if (mapping?.Ignores(key) == true || IgnoredByDesign(model, key)) { ignored.Add(fileKey); continue; }
            key = mapping?.MapKey(key) ?? key;
            if (!target.TryGetValue(key, out var slot)) { unexpected.Add(key == fileKey ? fileKey : $"{fileKey} (as {key})"); continue; }
            mapped[key] = (fileKey, mapping?.Adapt(key, value, slot) ?? value);
        }

        var skipped = new List<string>();
        foreach (var key in classifierKeys)
        {
            if (!mapped.TryGetValue(key, out var entry))
            {
                // A headless checkpoint: the classifier keeps its initialisation.
                skipped.Add(key);
                continue;
            }
            if (!entry.Value.shape.SequenceEqual(target[key].shape))
            {
                skipped.Add(entry.FileKey);
                mapped.Remove(key);
            }
        }

        // Older checkpoints lack BatchNorm's step counter; it only matters for momentum=None.
        var missing = target.Keys
            .Where(k => !mapped.ContainsKey(k) && !classifierKeys.Contains(k) && !k.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
            .ToList();
        var mismatched = mapped
            .Where(e => !e.Value.Value.shape.SequenceEqual(target[e.Key].shape))
            .OrderBy(e => e.Key, NaturalOrder.Instance)
            .Select(e => $"{e.Value.FileKey} {Shape(e.Value.Value)} vs model {Shape(target[e.Key])}")
            .ToList();

        if (missing.Count + unexpected.Count + mismatched.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0) parts.Add($"missing {missing.Count}: {Listing(missing)}");
            if (unexpected.Count > 0) parts.Add($"unexpected {unexpected.Count}: {Listing(unexpected.Order(NaturalOrder.Instance).ToList())}");
            if (mismatched.Count > 0) parts.Add($"shape mismatch {mismatched.Count}: {Listing(mismatched)}");
            throw new MaskLabInputException(
                $"weights '{file}' do not fit model '{model.GetName()}' ({string.Join("; ", parts)})");
        }

        using (no_grad())
        {
            foreach (var (key, entry) in mapped)
            {
                var slot = target[key];
                slot.copy_(entry.Value.to(slot.dtype, slot.device));
                if (!ReferenceEquals(entry.Value, source[entry.FileKey])) entry.Value.Dispose();
            }
        }
        return new PretrainedReport(mapped.Count, skipped, ignored);
    }

    /// <summary>Checkpoint parts our versions leave out on purpose: GoogLeNet's auxiliary training heads.</summary>
    static bool IgnoredByDesign(nn.Module model, string key) =>
        model is TorchSharp.Modules.GoogleNet && (key.StartsWith("aux1.", StringComparison.Ordinal) || key.StartsWith("aux2.", StringComparison.Ordinal));

    static string Shape(Tensor t) => $"[{string.Join(", ", t.shape)}]";

    static string Listing(List<string> keys) =>
        keys.Count <= ListedPerKind
            ? string.Join(", ", keys)
            : string.Join(", ", keys.Take(ListedPerKind)) + $", ... ({keys.Count - ListedPerKind} more)";

    /// <summary>Key order for messages: dotted names with their numbers compared as numbers (blocks.2 before blocks.10).</summary>
    sealed class NaturalOrder : IComparer<string>
    {
        public static readonly NaturalOrder Instance = new();

        public int Compare(string? a, string? b)
        {
            var pa = (a ?? "").Split('.');
            var pb = (b ?? "").Split('.');
            for (var i = 0; i < Math.Min(pa.Length, pb.Length); i++)
            {
                var c = long.TryParse(pa[i], out var na) && long.TryParse(pb[i], out var nb)
                    ? na.CompareTo(nb)
                    : string.CompareOrdinal(pa[i], pb[i]);
                if (c != 0) return c;
            }
            return pa.Length.CompareTo(pb.Length);
        }
    }

    /// <summary>The tensors of a checkpoint file by name.</summary>
    public static Dictionary<string, Tensor> Read(string file)
    {
        if (!File.Exists(file)) throw new MaskLabInputException($"weights file '{file}' not found");
        InputFile.Require(file, "weights file", long.MaxValue);
        var ext = Path.GetExtension(file).ToLowerInvariant();
        try
        {
            if (ext == ".safetensors")
                return Safetensors.LoadStateDict(file);
            if (ext is ".pt" or ".pth" or ".bin" or ".ckpt")
            {
                using var stream = File.OpenRead(file);
                return Flatten(PyTorchUnpickler.UnpickleStateDict(stream), file);
            }
        }
        catch (Exception e) when (e is not MaskLabInputException)
        {
            var line = Echo.Of(e.Message.Split('\n', 2)[0].Trim(), 200);
            throw new MaskLabInputException($"weights file '{file}' cannot be read as {(ext == ".safetensors" ? "safetensors" : "a torch.save state_dict")} (damaged, or another format): {line}");
        }
        throw new MaskLabInputException($"weights file '{file}' is neither .pt / .pth / .bin / .ckpt (torch.save) nor .safetensors");
    }

    /// <summary>A state_dict, or a training checkpoint that keeps one under a conventional key.</summary>
    static Dictionary<string, Tensor> Flatten(Hashtable table, string file)
    {
        foreach (var wrapper in new[] { "state_dict", "model", "model_state_dict", "state_dict_ema" })
            if (table[wrapper] is Hashtable inner)
                return Flatten(inner, file);

        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in table)
            if (e.Key is string key && e.Value is Tensor t)
                result[key] = t;
        if (result.Count == 0)
            throw new MaskLabInputException($"weights file '{file}' holds no tensors (expected a state_dict)");
        return result;
    }
}
