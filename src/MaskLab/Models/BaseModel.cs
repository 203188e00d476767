using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MaskLab.Models;

/// <summary>
/// The competition's BaseModel: conv7x7-32, conv3x3-64, maxpool, dropout .25, conv3x3-128, maxpool, dropout .25,
/// global average pool, linear 128 -> classes.
/// </summary>
internal sealed class BaseModel : Module<Tensor, Tensor>
{
    readonly Conv2d conv1, conv2, conv3;
    readonly Dropout dropout1, dropout2;
    readonly Linear fc;

    public BaseModel(int numClasses) : base("baseline")
    {
        conv1 = Conv2d(3, 32, kernel_size: 7, stride: 1);
        conv2 = Conv2d(32, 64, kernel_size: 3, stride: 1);
        dropout1 = Dropout(0.25);
        conv3 = Conv2d(64, 128, kernel_size: 3, stride: 1);
        dropout2 = Dropout(0.25);
        fc = Linear(128, numClasses);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = functional.relu(conv1.call(x));
        x = functional.relu(conv2.call(x));
        x = functional.max_pool2d(x, 2);
        x = dropout1.call(x);
        x = functional.relu(conv3.call(x));
        x = functional.max_pool2d(x, 2);
        x = dropout2.call(x);
        x = functional.adaptive_avg_pool2d(x, 1).flatten(1);
        return fc.call(x).MoveToOuterDisposeScope();
    }
}
