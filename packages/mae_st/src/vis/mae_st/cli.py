"""The maest-* commands: options, presets and help, without torch (each run imports what it needs)."""

from vis.core.cli import EntryPoint
from vis.mae_st.config import FinetuneConfig, PretrainConfig, TestConfig, ValidateConfig
from vis.mae_st.recipes import FINETUNE_RECIPES, PRETRAIN_RECIPES, TEST_RECIPES, VALIDATE_RECIPES

pretrain = EntryPoint(PretrainConfig, PRETRAIN_RECIPES, "vis.mae_st.pretrain:main", prog="maest-pretrain")
finetune = EntryPoint(FinetuneConfig, FINETUNE_RECIPES, "vis.mae_st.finetune:main", prog="maest-finetune")
test = EntryPoint(TestConfig, TEST_RECIPES, "vis.mae_st.test:main", prog="maest-test")
validate = EntryPoint(ValidateConfig, VALIDATE_RECIPES, "vis.mae_st.validate:main", prog="maest-validate",
                      local=True)
