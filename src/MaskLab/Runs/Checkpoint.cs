using System.Text;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MaskLab.Runs;

/// <summary>Where training stood when a checkpoint was written; enough to continue exactly.</summary>
public sealed record TrainingState(
    int EpochsDone, double BestMacroF1, int BestEpoch, int EpochsWithoutImprovement, double TrainSeconds,
    long TrainImagesSeen, string TorchRngState);

/// <summary>
/// One file per checkpoint: a header, the training state as JSON, the model weights and, for resumable
/// checkpoints, the optimiser state. Written to a temporary file and renamed, so a killed run never leaves a
/// half-written checkpoint in place of a good one.
/// </summary>
public static class Checkpoint
{
    const string Magic = "MASKLAB-CKPT-1";

    public static void Save(string path, nn.Module model, OptimizerHelper? optimizer, TrainingState state)
    {
        var tmp = path + ".tmp";
        using (var stream = File.Create(tmp))
        using (var writer = new BinaryWriter(stream, Encoding.UTF8))
        {
            writer.Write(Magic);
            writer.Write(JsonSerializer.Serialize(state));
            writer.Write(optimizer is not null);
            model.save(writer);
            optimizer?.save_state_dict(writer);
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Loads weights (and the optimiser state when given and present); returns the training state.</summary>
    public static TrainingState Load(string path, nn.Module model, OptimizerHelper? optimizer = null)
    {
        if (!File.Exists(path)) throw new MaskLabInputException($"checkpoint '{path}' does not exist");
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        string magic;
        try { magic = reader.ReadString(); } catch (EndOfStreamException) { magic = ""; }
        if (magic != Magic) throw new MaskLabInputException($"'{path}' is not a MaskLab checkpoint");
        var state = JsonSerializer.Deserialize<TrainingState>(reader.ReadString())
                    ?? throw new MaskLabInputException($"checkpoint '{path}' has no training state");
        bool hasOptimizer = reader.ReadBoolean();
        try
        {
            model.load(reader, strict: true);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or EndOfStreamException)
        {
            throw new MaskLabInputException($"checkpoint '{path}' does not fit this model ({e.Message.ReplaceLineEndings(" ")})");
        }
        if (optimizer is not null && hasOptimizer)
        {
            try { optimizer.load_state_dict(reader); }
            catch (Exception e) when (e is InvalidDataException or ArgumentException or EndOfStreamException)
            {
                throw new MaskLabInputException($"checkpoint '{path}' holds another optimiser's state; resume with the optimizer it was trained with");
            }
        }
        return state;
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
}
